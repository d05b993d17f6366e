from datetime import datetime

from celery import shared_task
from flask import current_app

from capital.models.types import utcnow
from capital.services.accounts import send_password_reset
from capital.services.dispatch import commit
from capital.services.mail import deliver_mail, send_due_mail
from capital.services.mailings import write_mailing

# A task stops taking new batches once this share of its time limit is used.
_BUDGET_SHARE = 0.5


def _clock(at: str | None):
    """The time for a task: the clock, but never before ``at`` (the moment of the tick that started
    the task), so work a tick found due is due for its task too."""
    floor = datetime.fromisoformat(at) if at else None
    return lambda: max(utcnow(), floor) if floor else utcnow()


def _budget():
    ends = utcnow().timestamp() + current_app.config["TASK_TIME_LIMIT"] * _BUDGET_SHARE
    return lambda: utcnow().timestamp() >= ends


@shared_task(name="capital.tasks.mail.deliver")
def deliver(mail_id: int) -> str | None:
    """Send one recorded mail; a repeat or a late duplicate does nothing."""
    state = deliver_mail(mail_id, utcnow())
    return state.name if state else None


@shared_task(name="capital.tasks.mail.password_reset")
def password_reset(email: str, locale: str, requested: str) -> None:
    """Mail a reset link if the address has an account (the request's time makes a retry a no-op)."""
    send_password_reset(email, locale=locale, now=datetime.fromisoformat(requested))
    commit()


@shared_task(name="capital.tasks.mail.send_due")
def send_due(at: str | None = None) -> int:
    """Send due mail in batches (one SMTP connection each) until none is due or the time budget is used."""
    clock, used_up = _clock(at), _budget()
    return send_due_mail(clock(), clock=lambda: None if used_up() else clock())


@shared_task(name="capital.tasks.mail.write")
def write(mailing_id: int, at: str | None = None) -> int:
    """Write a mailing's mails range by range (each range committed) until done or the time budget is used."""
    return write_mailing(mailing_id, _clock(at)(), until=_budget())
