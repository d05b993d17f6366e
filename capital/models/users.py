"""People, their roles, board terms and invitations (docs/roles.md)."""

from __future__ import annotations

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from capital.domain.roles import InvitationState, Role, invitation_state
from capital.extensions import db
from capital.models.types import IntEnumType, UTCDateTime, enum_check, utcnow


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-cased
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(8))  # the interface's language
    # The language of the mail we send them; apart from the interface's, so that trying another
    # language in the header never changes the language of official mail. None: ``locale``.
    mail_locale: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))
    city_id: Mapped[int | None] = mapped_column(ForeignKey("cities.id", ondelete="SET NULL"), index=True)
    is_active_account: Mapped[bool] = mapped_column(default=True)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Signed into every session cookie; raising it ends all of this person's sessions at once.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # The random handle passkeys know this person by (WebAuthn's user.id); made at the first passkey.
    webauthn_handle: Mapped[bytes | None] = mapped_column(LargeBinary(64), unique=True)
    # When their names and addresses were replaced by a pseudonym (capital.services.personal_data).
    erased_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    city = relationship("City")
    totp_factor = relationship("TotpFactor", back_populates="user", uselist=False, cascade="all, delete-orphan")
    passkeys = relationship("Passkey", back_populates="user", cascade="all, delete-orphan", order_by="Passkey.id")

    @property
    def mail_language(self) -> str:
        """The language in which mail to this person is written."""
        return self.mail_locale or self.locale or "en"
    role_grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    board_terms: Mapped[list[BoardTerm]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="BoardTerm.starts_on"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.is_active_account

    def get_id(self) -> str:
        """What the session cookie carries: the id and the session generation it was issued under."""
        return f"{self.id}:{self.session_generation}"

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(grant.role for grant in self.role_grants)

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    def current_board_term(self, today: date) -> BoardTerm | None:
        return next((term for term in self.board_terms if term.covers(today)), None)

    @classmethod
    def by_email(cls, email: str) -> User | None:
        return db.session.scalar(select(cls).where(func.lower(cls.email) == email.strip().lower()))

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class RoleGrant(db.Model):
    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("user_id", "role"), enum_check("role", Role))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(IntEnumType(Role))
    granted_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="role_grants")


class BoardTerm(db.Model):
    """A board member's term: they vote in the cycles whose voting falls inside it."""

    __tablename__ = "board_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    note: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User] = relationship(back_populates="board_terms")

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


class Invitation(db.Model):
    """An invitation to create an account with a role; the link carries a signed token."""

    __tablename__ = "invitations"
    __table_args__ = (enum_check("role", Role),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[Role] = mapped_column(IntEnumType(Role))
    city_id: Mapped[int | None] = mapped_column(ForeignKey("cities.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(8), default="en")
    # A random nonce signed into the link: the link is worthless without the database row.
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_dt: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    city = relationship("City")
    invited_by = relationship("User", foreign_keys=[invited_by_id])

    def state(self, now: datetime) -> InvitationState:
        return invitation_state(accepted_dt=self.accepted_dt, revoked_dt=self.revoked_dt,
                                expires_dt=self.expires_dt, now=now)
