from datetime import datetime

from celery import shared_task

from capital.models.types import utcnow
from capital.services.accounts import send_password_reset
from capital.services.dispatch import commit
from capital.services.mail import deliver_mail


@shared_task(name="capital.mail.deliver")
def deliver(mail_id: int) -> str | None:
    """Send one recorded mail; a repeat or a late duplicate does nothing."""
    state = deliver_mail(mail_id, utcnow())
    return state.name if state else None


@shared_task(name="capital.accounts.password_reset")
def password_reset(email: str, locale: str, requested: str) -> None:
    """Mail a reset link if the address has an account (the request's time makes a retry a no-op)."""
    send_password_reset(email, locale=locale, now=datetime.fromisoformat(requested))
    commit()
