"""The CSV import of cities or people, for files too big for a request (docs/roles.md)."""
from datetime import datetime

from celery import shared_task

from capital.services.onboarding import run_job


@shared_task(name="capital.tasks.onboarding.run")
def run(job_id: int, at: str) -> None:
    """Check or import the job's file, committing chunk by chunk; a done job is left alone."""
    run_job(job_id, datetime.fromisoformat(at))
