"""The jury report of a cycle and its drafts, every save kept (docs/public.md).

A :class:`JuryReport` is the cycle's report: who writes it (the rapporteur, a board member
given the task for the cycle; the secretariat may write it too) and the language it was first
written in. Each save of one language is a new :class:`JuryReportText` row with the next
version number: the latest version of each language is the report, the others its history.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from capital.domain.localisation import LOCALES
from capital.extensions import db
from capital.models.types import UTCDateTime, utcnow

_KNOWN_LOCALE = f"IN ({', '.join(repr(locale) for locale in LOCALES)})"


class JuryReport(db.Model):
    __tablename__ = "jury_reports"
    __table_args__ = (CheckConstraint(f"first_locale IS NULL OR first_locale {_KNOWN_LOCALE}",
                                      name="known_first_locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), unique=True)
    rapporteur_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    first_locale: Mapped[str | None] = mapped_column(String(5))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    rapporteur = relationship("User", foreign_keys=[rapporteur_id])
    texts: Mapped[list[JuryReportText]] = relationship(
        back_populates="report", order_by="JuryReportText.version", cascade="all, delete-orphan")


class JuryReportText(db.Model):
    """One saved draft of the report in one language."""

    __tablename__ = "jury_report_texts"
    __table_args__ = (UniqueConstraint("report_id", "locale", "version"),
                      CheckConstraint(f"locale {_KNOWN_LOCALE}", name="known_locale"),
                      CheckConstraint("version >= 1", name="version_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("jury_reports.id", ondelete="CASCADE"), index=True)
    locale: Mapped[str] = mapped_column(String(5))
    version: Mapped[int] = mapped_column(default=1)
    citation: Mapped[str] = mapped_column(Text, default="")
    # The reasons against each of the cycle's criteria, by criterion key (none without criteria).
    reasons: Mapped[dict] = mapped_column(JSON, default=dict)
    # A short paragraph on each other finalist, by nomination id (as a string: JSON keys).
    finalists: Mapped[dict] = mapped_column(JSON, default=dict)
    saved_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    report: Mapped[JuryReport] = relationship(back_populates="texts")
    saved_by = relationship("User", foreign_keys=[saved_by_id])
