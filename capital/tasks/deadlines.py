from celery import shared_task

from capital.models.types import utcnow
from capital.services.dispatch import commit
from capital.services.ticks import run_tick


@shared_task(name="capital.tasks.deadlines.tick")
def tick() -> dict:
    """Periodic (celery beat): record the heartbeat, then act on whatever has come due."""
    summary = run_tick(utcnow())
    commit()
    return summary
