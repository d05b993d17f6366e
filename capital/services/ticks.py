"""The periodic tick: the one place where due work is found in the database.

The tick is a list of steps run in order in one transaction, each ``step(now) -> int`` (how
much it did). Two ticks at once queue behind the heartbeat's row lock; each step is
idempotent on its own (row locks on the cycles, the outbox's unique key, reminder rounds
recorded on the cycle), so a tick re-delivered by the broker or run by a second beat does
nothing twice.

The board vote rides on the ``phases`` step: :func:`capital.services.cycles.enter_phase`
opens a round with its voting-open mail, closes it at the voting deadline with the count and
the result mail, and announces from ``announcement_dt`` on (not a second earlier) with the
announcement mail — each in the transaction of its phase change. ``vote_reminders`` reminds
the roll members who have not voted, 3 and 1 days before the deadline of the final vote's
round or of the shortlist vote (:func:`capital.services.notices.queue_due_vote_reminders`);
``assessment_reminders`` the panel members who have not submitted, 3 and 1 days before the
assessment deadline.
"""

from __future__ import annotations

import math
from datetime import datetime

from flask import current_app

from capital.extensions import db
from capital.models import WorkerHeartbeat
from capital.services.cycles import advance_due_cycles
from capital.services.dispatch import after_commit
from capital.services.mail import count_due_mail, drop_old_bodies
from capital.services.mailings import unwritten_mailing_ids
from capital.services.notices import (
    queue_due_assessment_reminders, queue_due_nomination_reminders, queue_due_vote_reminders,
)
from capital.tasks.mail import send_due, write


def record_heartbeat(now: datetime) -> int:
    """Lock the tick's row (a second tick waits here) and record that beat is alive."""
    beat = db.session.get(WorkerHeartbeat, "tick", with_for_update=True, populate_existing=True)
    if beat is None:
        beat = WorkerHeartbeat(name="tick", last_run_dt=now, runs=0)
        db.session.add(beat)
    beat.last_run_dt = max(beat.last_run_dt, now)
    beat.runs += 1
    db.session.flush()
    return 1


def advance_phases(now: datetime) -> int:
    """Open and close the phases whose time has come (with the mails the change causes)."""
    return len(advance_due_cycles(now))


def hand_out_mailings(now: datetime) -> int:
    """Mailings whose mails are not all written yet get a writer (again, if one was lost)."""
    ids = unwritten_mailing_ids()
    for mailing_id in ids:
        after_commit(write, mailing_id, now.isoformat())
    return len(ids)


def hand_out_mail(now: datetime) -> int:
    """Start enough senders for the due mail, at most MAIL_SENDERS; each sends batches until none is due."""
    config = current_app.config
    # Counted only as far as the senders it decides: a backlog of a million costs no more.
    due = count_due_mail(now, config["MAIL_BATCH_SIZE"] * config["MAIL_SENDERS"])
    senders = min(math.ceil(due / config["MAIL_BATCH_SIZE"]), config["MAIL_SENDERS"])
    for _ in range(senders):
        after_commit(send_due, now.isoformat())
    return due


def hand_out_imports(now: datetime) -> int:
    """CSV imports whose task was lost (never started, or its worker gone) get a task again."""
    from capital.services.onboarding import stalled_import_ids
    from capital.tasks.onboarding import run

    ids = stalled_import_ids(now)
    for job_id in ids:
        after_commit(run, job_id, now.isoformat())
    return len(ids)


TICK_STEPS = (
    ("heartbeat", record_heartbeat),
    ("phases", advance_phases),
    ("nomination_reminders", queue_due_nomination_reminders),
    ("vote_reminders", queue_due_vote_reminders),
    ("assessment_reminders", queue_due_assessment_reminders),
    ("mailings", hand_out_mailings),
    ("mail_due", hand_out_mail),
    ("mail_retention", drop_old_bodies),
    ("imports", hand_out_imports),
)


def run_tick(now: datetime) -> dict:
    """Run every step of the tick at ``now``; returns what each did. The caller commits."""
    summary = {name: step(now) for name, step in TICK_STEPS}
    db.session.flush()
    return summary
