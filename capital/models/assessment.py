"""A cycle's criteria and the panel's assessments of the dossiers against them (docs/assessment.md)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Numeric, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from capital.domain.criteria import DEFAULT_SCALE
from capital.extensions import db
from capital.models.types import UTCDateTime, utcnow


class Criterion(db.Model):
    """One criterion of a cycle; ``texts`` holds its words per language, first given first."""

    __tablename__ = "criteria"
    __table_args__ = (
        CheckConstraint("scale_min >= 0 AND scale_min < scale_max", name="scale_order"),
        CheckConstraint("weight > 0", name="weight_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    # [{"locale", "name", "description", "low_label", "high_label"}, ...] (capital.domain.criteria)
    texts: Mapped[list] = mapped_column(JSON, default=list)
    scale_min: Mapped[int] = mapped_column(default=DEFAULT_SCALE[0])
    scale_max: Mapped[int] = mapped_column(default=DEFAULT_SCALE[1])
    weight: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal(1))

    cycle = relationship("Cycle", foreign_keys=[cycle_id])


class Assessment(db.Model):
    """One assessor's assessment of a cycle's dossiers: a draft until ``submitted_dt``."""

    __tablename__ = "assessments"
    __table_args__ = (UniqueConstraint("cycle_id", "assessor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    assessor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    assessor = relationship("User")
    scores: Mapped[list[AssessmentScore]] = relationship(back_populates="assessment", cascade="all, delete-orphan")


class AssessmentScore(db.Model):
    """An assessor's score and note for one dossier on one criterion (the score empty in a draft)."""

    __tablename__ = "assessment_scores"
    __table_args__ = (UniqueConstraint("assessment_id", "nomination_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"), index=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nominations.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id", ondelete="CASCADE"), index=True)
    score: Mapped[int | None]
    note: Mapped[str] = mapped_column(Text, default="")

    assessment: Mapped[Assessment] = relationship(back_populates="scores")
