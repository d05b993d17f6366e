"""Background work is handed to Celery only once the data it needs is committed.

Services call :func:`after_commit`; views and tasks call :func:`commit`, which commits
and then enqueues. If the broker is unreachable the work is not lost: everything a task
does is also found in the database by the periodic tick (docs/operations.md).

Tasks are handed over as objects (``after_commit(deliver, mail.id)``), never as names: a
renamed or unregistered task fails loudly instead of silently leaving its work to the tick.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import Task
from flask import after_this_request, current_app, has_request_context
from kombu.exceptions import OperationalError
from sqlalchemy import event
from sqlalchemy.orm import Session

from capital.extensions import db

log = logging.getLogger(__name__)
_PENDING = "capital_pending_tasks"
_READY = "capital_ready_tasks"


def after_commit(task: Task, *args, after_response: bool = False) -> None:
    """Enqueue ``task(*args)`` once the current transaction commits.

    ``after_response``: when tasks run in-process (no broker) during a request, run it only
    once the response is sent, so the response time does not depend on the task's work. Such a
    task is also run in-process, after the response, when the broker cannot be reached: use it
    for work the periodic tick cannot find in the database.
    """
    db.session.info.setdefault(_PENDING, []).append((task, args, after_response))


@event.listens_for(Session, "after_commit")
def _promote(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.info.setdefault(_READY, []).extend(pending)


@event.listens_for(Session, "after_rollback")
def _discard(session: Session) -> None:
    session.info.pop(_PENDING, None)


def on_commit(callback: Callable[[], object]) -> None:
    """Call ``callback()`` once the current transaction commits (e.g. delete a replaced file)."""
    db.session.info.setdefault(_PENDING, []).append((callback, (), False))


def commit() -> None:
    """Commit the session, then enqueue the tasks (and run the callbacks) its services asked for.

    Only an unreachable broker is tolerated (logged; the tick finds the work later); any other
    error, such as a task this app does not know, is raised.
    """
    db.session.commit()
    ready = db.session.info.pop(_READY, [])
    celery = current_app.extensions["celery"]
    for work, args, after_response in ready:
        if not isinstance(work, Task):
            try:
                work(*args)
            except Exception:  # the data is committed; a failed clean-up must not undo the request
                log.exception("after-commit callback %r failed", work)
            continue
        # The app's own Celery, not the process-wide default: one process may hold several apps.
        try:
            task = celery.tasks[work.name]
            if after_response and celery.conf.task_always_eager and has_request_context():
                _run_after_response(task, args)
            else:
                task.delay(*args)
        except OperationalError:
            if after_response and has_request_context():
                # Work that is nowhere in the database yet (a password-reset request): the tick
                # could not find it, so this process does it once the response is sent.
                log.warning("could not reach the broker for %s; running it in this process after the response",
                            work.name, exc_info=True)
                _run_after_response(celery.tasks[work.name], args)
            else:
                log.warning("could not reach the broker for %s%r; the periodic tick will pick it up",
                            work.name, args, exc_info=True)


def _run_after_response(task, args) -> None:
    app = current_app._get_current_object()

    def run():
        try:
            with app.app_context():
                task.apply(args=args, throw=True)
        except Exception:  # the response is sent; the tick retries what was recorded
            log.exception("in-process task %s%r failed after the response", task.name, args)

    @after_this_request
    def defer(response):
        response.call_on_close(run)
        return response
