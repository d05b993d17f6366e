from celery import shared_task

from capital.models.types import utcnow
from capital.services.mail import deliver_mail


@shared_task(name="capital.tasks.mail.deliver")
def deliver(mail_id: int) -> str | None:
    """Send one recorded mail; a repeat or a late duplicate does nothing."""
    state = deliver_mail(mail_id, utcnow())
    return state.name if state else None
