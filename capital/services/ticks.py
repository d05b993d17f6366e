"""The periodic tick: the one place where due work is found in the database."""

from __future__ import annotations

from datetime import datetime

from capital.extensions import db
from capital.models import WorkerHeartbeat
from capital.services.cycles import advance_due_cycles
from capital.services.dispatch import after_commit
from capital.services.mail import due_mail_ids
from capital.tasks.mail import deliver


def run_tick(now: datetime) -> dict:
    """Record that beat is alive, move the cycles whose deadlines have come, and hand out due mail."""
    beat = db.session.get(WorkerHeartbeat, "tick", with_for_update=True)
    if beat is None:
        beat = WorkerHeartbeat(name="tick", last_run_dt=now, runs=0)
        db.session.add(beat)
    beat.last_run_dt = max(beat.last_run_dt, now)
    beat.runs += 1
    transitions = advance_due_cycles(now)
    mail_ids = due_mail_ids(now)
    for mail_id in mail_ids:
        after_commit(deliver, mail_id)
    db.session.flush()
    return {"mails_due": len(mail_ids), "phase_transitions": len(transitions)}
