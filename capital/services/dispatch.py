"""Background work is handed to Celery only once the data it needs is committed.

Services call :func:`after_commit`; views and tasks call :func:`commit`, which commits
and then enqueues. If the broker is unreachable the work is not lost: everything a task
does is also found in the database by the periodic tick (SPEC §7).
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from capital.extensions import db

log = logging.getLogger(__name__)
_PENDING = "capital_pending_tasks"
_READY = "capital_ready_tasks"


def after_commit(task_name: str, *args) -> None:
    """Enqueue ``task_name(*args)`` once the current transaction commits."""
    db.session.info.setdefault(_PENDING, []).append((task_name, args))


@event.listens_for(Session, "after_commit")
def _promote(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.info.setdefault(_READY, []).extend(pending)


@event.listens_for(Session, "after_rollback")
def _discard(session: Session) -> None:
    session.info.pop(_PENDING, None)


def on_commit(callback) -> None:
    """Call ``callback()`` once the current transaction commits (e.g. delete a replaced file)."""
    db.session.info.setdefault(_PENDING, []).append((callback, ()))


def commit() -> None:
    """Commit the session, then enqueue the tasks (and run the callbacks) its services asked for."""
    db.session.commit()
    ready = db.session.info.pop(_READY, [])
    celery = current_app.extensions["celery"]
    for task_name, args in ready:
        if callable(task_name):
            try:
                task_name(*args)
            except Exception:  # the data is committed; a failed clean-up must not undo the request
                log.exception("after-commit callback %r failed", task_name)
            continue
        try:
            celery.tasks[task_name].delay(*args)
        except Exception:  # broker down: the tick finds the work in the database later
            log.warning("could not run or enqueue %s%r; the periodic tick will pick it up",
                        task_name, args, exc_info=True)
