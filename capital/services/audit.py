"""Recording state changes in the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from capital.extensions import db
from capital.models import AuditEntry, User

Actor = User | str  # a person, or the name of what acted: "worker", "cli", "system"


def record(action: str, obj: Any, *, actor: Actor, now: datetime, cycle_id: int | None = None,
           data: dict | None = None) -> AuditEntry:
    """Add an audit entry saying ``actor`` did ``action`` to ``obj`` at ``now``."""
    entry = AuditEntry(
        dt=now,
        action=action,
        object_type=type(obj).__name__,
        object_id=str(getattr(obj, "id", obj)),
        cycle_id=cycle_id,
        data=data or {},
    )
    if isinstance(actor, User):
        entry.actor_id = actor.id
    else:
        entry.actor_label = actor
    db.session.add(entry)
    return entry
