"""Nominations, their dossiers, attachments, endorsements and eligibility decisions (docs/rules.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from capital.domain.nominations import NominationState
from capital.extensions import db
from capital.models.types import IntEnumType, UTCDateTime, enum_check, utcnow


class Nomination(db.Model):
    __tablename__ = "nominations"
    __table_args__ = (enum_check("state", NominationState),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    nominating_city_id: Mapped[int] = mapped_column(ForeignKey("cities.id", ondelete="RESTRICT"), index=True)
    host_city_id: Mapped[int] = mapped_column(ForeignKey("cities.id", ondelete="RESTRICT"), index=True)
    state: Mapped[NominationState] = mapped_column(
        IntEnumType(NominationState), default=NominationState.DRAFT, index=True
    )
    title: Mapped[str] = mapped_column(String(300), default="")
    themes: Mapped[list] = mapped_column(JSON, default=list)  # capital.domain.dossier.Theme values
    expected_participants: Mapped[int | None]
    partners: Mapped[str] = mapped_column(Text, default="")
    budget_range: Mapped[str | None] = mapped_column(String(20))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Moves on by one with every change of the dossier, its files or its state (capital.domain.revisions).
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    cycle = relationship("Cycle", foreign_keys=[cycle_id])
    nominating_city = relationship("City", foreign_keys=[nominating_city_id])
    host_city = relationship("City", foreign_keys=[host_city_id])
    texts: Mapped[list[NominationText]] = relationship(
        back_populates="nomination", cascade="all, delete-orphan", order_by="NominationText.locale"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="nomination", cascade="all, delete-orphan", order_by="Attachment.uploaded_dt"
    )
    endorsements: Mapped[list[Endorsement]] = relationship(
        back_populates="nomination", cascade="all, delete-orphan"
    )
    decisions: Mapped[list[EligibilityDecision]] = relationship(
        back_populates="nomination", cascade="all, delete-orphan", order_by="EligibilityDecision.decided_dt"
    )

    def __repr__(self) -> str:
        return f"<Nomination {self.id} cycle={self.cycle_id} {self.state.name}>"


class NominationRevision(db.Model):
    """One change of a dossier: who made it, when, and only the fields it changed (before and after)."""

    __tablename__ = "nomination_revisions"
    __table_args__ = (UniqueConstraint("nomination_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nominations.id", ondelete="CASCADE"))
    version: Mapped[int]  # the version this change made
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    saved_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changes: Mapped[dict] = mapped_column(JSON, default=dict)  # field -> [before, after]

    saved_by = relationship("User")


class NominationText(db.Model):
    """The summary and 16 May programme in one language; a dossier may have several."""

    __tablename__ = "nomination_texts"
    __table_args__ = (UniqueConstraint("nomination_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nominations.id", ondelete="CASCADE"), index=True)
    locale: Mapped[str] = mapped_column(String(8))
    summary: Mapped[str] = mapped_column(Text, default="")
    programme: Mapped[str] = mapped_column(Text, default="")

    nomination: Mapped[Nomination] = relationship(back_populates="texts")


class Attachment(db.Model):
    """A file of a dossier, kept outside the web root under a random key."""

    __tablename__ = "attachments"
    # "update": a finalist's updated dossier or presentation (PDF), after the shortlist.
    __table_args__ = (db.CheckConstraint("kind IN ('letter', 'image', 'update')", name="known_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nominations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    storage_key: Mapped[str] = mapped_column(String(100), unique=True)
    filename: Mapped[str] = mapped_column(String(255))  # sanitised, for display and download
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    nomination: Mapped[Nomination] = relationship(back_populates="attachments")


class Endorsement(db.Model):
    """A member city's support for another city's nomination: one per city per cycle."""

    __tablename__ = "endorsements"
    __table_args__ = (UniqueConstraint("cycle_id", "city_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nominations.id", ondelete="CASCADE"), index=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    nomination: Mapped[Nomination] = relationship(back_populates="endorsements")
    city = relationship("City")


class EligibilityDecision(db.Model):
    """The secretariat's decision on a submitted nomination; the latest one stands."""

    __tablename__ = "eligibility_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nominations.id", ondelete="CASCADE"), index=True)
    is_eligible: Mapped[bool]
    reason: Mapped[str] = mapped_column(Text, default="")
    # The automatic rule check at decision time, kept as evidence (codes and params).
    rule_report: Mapped[list] = mapped_column(JSON, default=list)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    nomination: Mapped[Nomination] = relationship(back_populates="decisions")
    decided_by = relationship("User")
