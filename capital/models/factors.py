"""A person's second factors: an authenticator app (TOTP), passkeys and recovery codes (docs/roles.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from capital.extensions import db
from capital.models.types import UTCDateTime, utcnow


class TotpFactor(db.Model):
    """The authenticator app of a person (one at most)."""

    __tablename__ = "totp_factors"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    # Encrypted with a key derived from SECRET_KEY: a copy of the database alone does not give codes.
    secret_encrypted: Mapped[str] = mapped_column(String(300))
    # The last time step whose code was accepted: a code for it, or an earlier one, is refused.
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User", back_populates="totp_factor")


class Passkey(db.Model):
    """A WebAuthn credential a person registered, under a name they chose."""

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1024), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(2048))
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    transports: Mapped[list] = mapped_column(JSON, default=list)
    name: Mapped[str] = mapped_column(String(60))
    # When the last accepted sign-in challenge was issued (ns since the epoch): an answer to
    # that challenge, or to an older one, is refused, so a captured answer cannot be replayed.
    last_challenge_ns: Mapped[int | None] = mapped_column(BigInteger)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User", back_populates="passkeys")


class RecoveryCode(db.Model):
    """A one-time recovery code, stored as an Argon2 hash like a password."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
