"""The audit log: one row for every state change, with who or what caused it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from capital.extensions import db
from capital.models.types import UTCDateTime, utcnow


class AuditEntry(db.Model):
    """One recorded action, chained to the one before by hash (capital/domain/audit_chain.py).

    ``seq``, ``prev_hash`` and ``entry_hash`` are filled when the transaction commits, under a
    lock, so concurrent writers append one after the other and never fork the chain.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_object", "object_type", "object_id"),
        Index("ix_audit_log_recorded", "dt", "id"),  # the log page, newest first, by keyset
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # For actions no person took: "worker", "cli", "system".
    actor_label: Mapped[str] = mapped_column(String(50), default="")
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[str] = mapped_column(String(50))
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id", ondelete="SET NULL"), index=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    seq: Mapped[int | None] = mapped_column(unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    entry_hash: Mapped[str | None] = mapped_column(String(64))

    actor = relationship("User")


class WorkerHeartbeat(db.Model):
    """When a periodic task last ran, so /healthz can tell that beat is alive."""

    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    last_run_dt: Mapped[datetime] = mapped_column(UTCDateTime)
    runs: Mapped[int] = mapped_column(default=0)
