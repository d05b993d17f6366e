"""Celery tasks: thin, idempotent wrappers that take ids, call one service and commit."""
from datetime import datetime

from celery import shared_task

from capital.models.types import utcnow
from capital.services.dispatch import commit
from capital.services.ticks import run_tick


@shared_task(name="capital.tasks.deadlines.tick")
def tick(at: str | None = None) -> dict:
    """Periodic (celery beat): record the heartbeat, then act on whatever has come due.

    ``at`` (ISO 8601, aware) runs the tick for that moment instead of the clock's: operators
    replaying a missed moment, and the tests that drive a timeline through months of ticks.
    """
    summary = run_tick(datetime.fromisoformat(at) if at else utcnow())
    commit()
    return summary
