"""The mail outbox: record, then deliver, at most once per (cycle, kind, recipient).

A mail is rendered in its recipient's language and stored before any attempt to send
it. Delivery is a separate step (a task, and the periodic tick for anything the task
missed), retried with back-off while the mail server is unreachable, so an SMTP or
broker outage delays mail but never drops it.
"""

from __future__ import annotations

import logging
import os
import smtplib
import tempfile
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime as format_rfc2822, make_msgid
from pathlib import Path

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from capital.extensions import db
from capital.models import Mail, MailState
from capital.services.dispatch import after_commit

log = logging.getLogger(__name__)
# While a mail is being handed over, other workers leave it alone for this long.
SENDING_LEASE = timedelta(minutes=10)
MAX_BACKOFF = timedelta(hours=6)


def absolute_url(endpoint: str, **values) -> str:
    """An absolute link for a mail, built from CAPITAL_BASE_URL (workers have no request)."""
    app = current_app._get_current_object()
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        return url_for(endpoint, _external=True, **values)


def queue_mail(kind: str, *, recipient: str, locale: str, subject: str, context: dict, now: datetime,
               cycle_id: int | None = None, city_id: int | None = None,
               dedupe: str | None = None) -> Mail | None:
    """Render ``email/<kind>`` in ``locale`` and record it for delivery.

    ``subject`` is a message id (translated here, with ``context``). Returns ``None`` when
    the same (cycle, kind, recipient, dedupe) mail was already recorded.
    """
    recipient = recipient.strip().lower()
    key = ":".join([str(cycle_id or "-"), kind, recipient] + ([dedupe] if dedupe else []))
    if db.session.scalar(select(Mail.id).where(Mail.dedupe_key == key)) is not None:
        return None
    from flask_babel import gettext

    with force_locale(locale):
        mail = Mail(
            dedupe_key=key,
            kind=kind,
            cycle_id=cycle_id,
            city_id=city_id,
            recipient=recipient,
            locale=locale,
            subject=gettext(subject, **context),
            body_text=render_template(f"email/{kind}.txt", **context),
            body_html=render_template(f"email/{kind}.html", **context),
            message_id=make_msgid(domain=_sender_domain()),
            next_attempt_dt=now,
            created_dt=now,
        )
    try:
        with db.session.begin_nested():  # a concurrent writer may have recorded it first
            db.session.add(mail)
    except IntegrityError:
        return None
    from capital.tasks.mail import deliver  # here: the task module builds on this one

    after_commit(deliver, mail.id)
    return mail


def due_mail_ids(now: datetime, limit: int = 500) -> list[int]:
    """Mails whose next attempt is due, or whose hand-over was interrupted."""
    return list(db.session.scalars(
        select(Mail.id)
        .where(or_(Mail.state == MailState.QUEUED, Mail.state == MailState.SENDING), Mail.next_attempt_dt <= now)
        .order_by(Mail.next_attempt_dt)
        .limit(limit)
    ))


def deliver_mail(mail_id: int, now: datetime) -> MailState | None:
    """Try to send one mail; safe to call twice or from two workers at once.

    This commits twice, on purpose: once to take the mail (so a second worker skips it),
    and once with the outcome.
    """
    mail = db.session.execute(
        select(Mail).where(Mail.id == mail_id).with_for_update(skip_locked=True)
    ).scalar_one_or_none()
    if mail is None or mail.state in (MailState.SENT, MailState.FAILED) or mail.next_attempt_dt > now:
        db.session.rollback()
        return mail.state if mail else None
    mail.state = MailState.SENDING
    mail.attempts += 1
    mail.next_attempt_dt = now + SENDING_LEASE
    db.session.commit()
    try:
        _send(mail)
    except (OSError, smtplib.SMTPException) as exc:
        if _refused_for_good(exc):  # the address itself is refused: retrying won't help
            mail.state = MailState.FAILED
            mail.last_error = str(exc)[:2000]
        else:
            mail.state = MailState.QUEUED
            mail.next_attempt_dt = now + backoff(mail.attempts)
            mail.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            log.warning("mail %s not sent (attempt %s): %s", mail.id, mail.attempts, mail.last_error)
    else:
        mail.state = MailState.SENT
        mail.sent_dt = now
        mail.last_error = ""
    db.session.commit()
    return mail.state


def _refused_for_good(exc: Exception) -> bool:
    """A 5xx reply to the recipient; a 4xx one ("mailbox busy", greylisting) means try later."""
    return isinstance(exc, smtplib.SMTPRecipientsRefused) and all(
        code >= 500 for code, _ in exc.recipients.values())


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes, at most six hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def build_message(mail: Mail) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = mail.subject
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = mail.recipient
    message["Date"] = format_rfc2822(mail.created_dt)
    message["Message-ID"] = mail.message_id  # the same on every attempt: receivers can spot repeats
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.body_text)
    message.add_alternative(mail.body_html, subtype="html")
    # After the body: making the message multipart moves Content-* headers into its first part.
    message["Content-Language"] = mail.locale
    return message


def _send(mail: Mail) -> None:
    config = current_app.config
    message = build_message(mail)
    if not config["MAIL_SERVER"]:
        _write_to_outbox(Path(config["MAIL_OUTBOX_DIR"]), mail, message)
        return
    smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    with smtp_class(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"]) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(message)


def _write_to_outbox(folder: Path, mail: Mail, message: EmailMessage) -> None:
    """The embedded default: one .eml file per mail, written atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{mail.created_dt:%Y%m%dT%H%M%S}-{mail.id:06d}-{mail.kind}.eml"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(bytes(message))
    os.replace(tmp, folder / name)


def _sender_domain() -> str:
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    return sender.rsplit("@", 1)[-1].strip(" >") or "localhost"
