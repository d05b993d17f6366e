"""A CSV import of cities or people, its progress and its report (docs/roles.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from capital.extensions import db
from capital.models.types import UTCDateTime, utcnow


class ImportJob(db.Model):
    """One file, checked (``is_dry_run``) or imported, now or by a task; ``report`` once done."""

    __tablename__ = "import_jobs"
    __table_args__ = (db.CheckConstraint("kind IN ('cities', 'people')", name="known_kind"),
                      db.CheckConstraint("state IN ('queued', 'running', 'done')", name="known_state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    filename: Mapped[str] = mapped_column(String(255), default="")
    data: Mapped[bytes] = mapped_column(LargeBinary)
    is_dry_run: Mapped[bool]
    state: Mapped[str] = mapped_column(String(10), default="queued")
    lines_total: Mapped[int] = mapped_column(default=0)
    lines_done: Mapped[int] = mapped_column(default=0)
    report: Mapped[dict | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the task last reported progress: a job silent for long lost its worker (the tick restarts it).
    heartbeat_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
