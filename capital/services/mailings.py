"""Mail to many subscribers: rendered once per language, written in ranges, sent in batches.

A mailing is recorded in the transaction that causes it (the announcement); its mails are
then written range of subscriber ids by range, each range one ``INSERT … SELECT`` in its
own transaction, so a million subscribers are never one transaction and never in memory.
The outbox's unique key keeps a subscriber who is also a city contact to one copy, and the
sender puts each subscriber's own unsubscribe link into their copy.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app, render_template
from flask_babel import gettext
from sqlalchemy import String, case, cast, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from capital.config import LOCALES
from capital.extensions import db
from capital.models import Mail, Mailing, MailState, Subscriber
from capital.services.dispatch import after_commit, commit
from capital.services.mail import UNSUBSCRIBE_MARK, _sender_domain, mail_key, recipient_context



def create_mailing(kind: str, *, subject: str, context: dict, cycle_id: int | None, now: datetime) -> Mailing | None:
    """Record a mailing of ``email/<kind>`` to every confirmed subscriber; None if it exists already.

    The bodies are rendered here, once per language; the mails are written afterwards by
    :func:`write_mailing` (a task, and the tick for anything the task missed).
    """
    key = f"{cycle_id or '-'}:{kind}"
    if db.session.scalar(select(Mailing.id).where(Mailing.dedupe_key == key)) is not None:
        return None
    contents = {}
    for locale in LOCALES:
        with recipient_context(locale):
            values = {**context, "unsubscribe_url": UNSUBSCRIBE_MARK}
            contents[locale] = {"subject": gettext(subject, **context),
                                "text": render_template(f"email/{kind}.txt", **values),
                                "html": render_template(f"email/{kind}.html", **values)}
    last = db.session.scalar(select(func.max(Subscriber.id))) or 0
    mailing = Mailing(dedupe_key=key, kind=kind, cycle_id=cycle_id, contents=contents, next_subscriber_id=0,
                      last_subscriber_id=last, created_dt=now, written_dt=None if last else now)
    db.session.add(mailing)
    db.session.flush()
    if last:
        from capital.tasks.mail import write  # here: the task module builds on this one

        after_commit(write, mailing.id, now.isoformat())
    return mailing


def unwritten_mailing_ids() -> list[int]:
    return list(db.session.scalars(select(Mailing.id).where(Mailing.written_dt.is_(None)).order_by(Mailing.id)))


def write_mailing(mailing_id: int, now: datetime, *, until=None) -> int:
    """Write the mailing's next ranges of subscribers, committing each, until it is written
    (or ``until()`` says stop); returns the number of mails written. Safe from several workers."""
    written = ranges = 0
    while until is None or not until():
        count = write_mailing_range(mailing_id, now, wake_sender=ranges < current_app.config["MAIL_SENDERS"])
        if count is None:
            break
        written += count
        ranges += 1
    return written


def write_mailing_range(mailing_id: int, now: datetime, *, wake_sender: bool = True) -> int | None:
    """Write one range of the mailing and commit; None when there is nothing left to write
    (or another worker is writing it right now). With ``wake_sender`` a sender task starts
    on the mail just written (senders keep claiming until the outbox is empty)."""
    mailing = db.session.get(Mailing, mailing_id, with_for_update={"skip_locked": True}, populate_existing=True)
    if mailing is None or mailing.written_dt is not None:
        db.session.rollback()
        return None
    low = mailing.next_subscriber_id
    high = min(low + current_app.config["MAILING_RANGE"], mailing.last_subscriber_id)
    count = len(db.session.execute(_insert_range(mailing, low, high, now)).all())  # one id per mail written
    mailing.next_subscriber_id = high
    if high >= mailing.last_subscriber_id:
        mailing.written_dt = now
    if wake_sender and count:
        from capital.tasks.mail import send_due  # here: the task module builds on this one

        after_commit(send_due, now.isoformat())
    commit()
    return count


def _insert_range(mailing: Mailing, low: int, high: int, now: datetime):
    locale = case(*((Subscriber.locale == code, code) for code in LOCALES), else_="en")
    subjects = {code: contents["subject"] for code, contents in mailing.contents.items()}
    subject = case(*((Subscriber.locale == code, subjects[code]) for code in LOCALES), else_=subjects["en"])
    email = func.lower(Subscriber.email)
    prefix = mail_key(mailing.cycle_id, mailing.kind, "")  # "<cycle>:<kind>:" + the address
    rows = select(
        literal(prefix, String) + email, literal(mailing.kind, String), literal(mailing.cycle_id), email, locale,
        subject, literal("", String), literal("", String),
        literal(f"<mailing-{mailing.id}-", String) + cast(Subscriber.id, String)
        + literal(f"@{_sender_domain()}>", String),
        literal(int(MailState.QUEUED)), literal(0), literal(now, Mail.next_attempt_dt.type), literal("", String),
        literal(now, Mail.created_dt.type), literal(mailing.id), Subscriber.id,
    ).where(Subscriber.id > low, Subscriber.id <= high, Subscriber.confirmed_dt.is_not(None),
            Subscriber.unsubscribed_dt.is_(None))
    columns = ["dedupe_key", "kind", "cycle_id", "recipient", "locale", "subject", "body_text", "body_html",
               "message_id", "state", "attempts", "next_attempt_dt", "last_error", "created_dt", "mailing_id",
               "subscriber_id"]
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    # A subscriber who already has this mail (as a city's contact, say) keeps their one copy.
    return dialect.insert(Mail.__table__).from_select(columns, rows).on_conflict_do_nothing().returning(Mail.id)
