"""Mail to a group, written in ranges: the call for nominations, the reminders, the vote's mails,
the announcement to member cities and to a million subscribers (docs/mail.md).

The transaction that causes a group mail records only *what* is to be sent to *whom*:
:func:`queue_group_mail` stores the template, the subject and the context, and names an
audience (a recipients query of :mod:`capital.services.audiences` with its parameters). It
renders nothing and writes no mail, so an announcement by hand or a tick never waits for it.

A task (:func:`write_mailing`, started after the commit and again by every tick until the
mailing is written) then writes the mail range by range, each range one transaction: the
next keys of the audience up to ``CAPITAL_MAILING_RANGE`` recipients, rendered once per
language, time zone and variant into a :class:`MailingPart` (the first time a range needs
it), then one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` of the range's mails pointing at
their part, and the mailing's cursor moved past the range. A worker killed between ranges
leaves the cursor at the last committed range: the next writer goes on from there, with no
gap, and the outbox's unique key (cycle, kind, recipient, occasion) leaves no duplicate.

What is personal — the recipient's name, the city the mail is about, a subscriber's
unsubscribe link — is written into the part as a mark and put in when the mail is sent
(:func:`capital.services.mail.mail_bodies`); what changes the text otherwise (a recusal) is
a variant of the audience, rendered as a part of its own.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app, render_template
from flask_babel import gettext
from sqlalchemy import String, and_, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from capital.extensions import db
from capital.models import Mail, Mailing, MailingPart, MailState
from capital.services.audiences import AUDIENCES, Audience
from capital.services.dispatch import after_commit, commit
from capital.services.mail import CITY_MARK, NAME_MARK, UNSUBSCRIBE_MARK, mail_key, recipient_context

_DATETIME = "$datetime"


def queue_group_mail(kind: str, audience: str, *, subject: str, context: dict, now: datetime,
                     cycle_id: int | None = None, params: dict | None = None, occasion: str | None = None,
                     follows: Mailing | None = None) -> Mailing | None:
    """Record that ``email/<kind>`` goes to ``audience``; None if that mailing exists already.

    ``subject`` is a message id (translated per language with ``context``); ``context`` holds
    the templates' values (JSON values and aware datetimes), frozen now; ``params`` what the
    audience's query needs; ``occasion`` tells rounds of one kind apart (a reminder's day
    count), in the mailing's key and in each mail's. With ``follows``, the mails are written
    once that mailing's are (an address in both keeps the first one's copy). Templates get
    ``recipient_name`` (empty when the recipient is greeted by no name) and ``city``, which
    are each recipient's own, and ``unsubscribe_url`` for an audience of subscribers.

    Call it in the transaction that causes the mail; the mails themselves are written after
    the commit, in ranges, by :func:`write_mailing`.
    """
    found = AUDIENCES[audience]
    key = ":".join([str(cycle_id or "-"), kind, audience] + ([occasion] if occasion else []))
    if db.session.scalar(select(Mailing.id).where(Mailing.dedupe_key == key)) is not None:
        return None
    params = params or {}
    recipients = found.query(params).subquery("recipients")
    last = db.session.scalar(select(func.max(recipients.c.key))) or 0
    mailing = Mailing(dedupe_key=key, kind=kind, cycle_id=cycle_id, audience=audience, params=params,
                      subject=subject, context=_encode(context), occasion=occasion,
                      follows_id=follows.id if follows is not None else None, next_key=0, last_key=last,
                      created_dt=now, written_dt=None if last else now)
    db.session.add(mailing)
    db.session.flush()
    if last and (follows is None or follows.written_dt is not None):
        _hand_out(mailing, now)
    return mailing


def _hand_out(mailing: Mailing, now: datetime) -> None:
    from capital.tasks.mail import write  # here: the task module builds on this one

    # Run in-process (no broker), the writer waits until the response is sent.
    after_commit(write, mailing.id, now.isoformat(), after_response=True)


def unwritten_mailing_ids() -> list[int]:
    """Mailings with mail still to write whose turn has come (what they follow is written)."""
    follows = Mailing.__table__.alias("follows")
    return list(db.session.scalars(
        select(Mailing.id).outerjoin(follows, follows.c.id == Mailing.follows_id)
        .where(Mailing.written_dt.is_(None), (Mailing.follows_id.is_(None)) | follows.c.written_dt.is_not(None))
        .order_by(Mailing.id)))


def write_mailing(mailing_id: int, now: datetime, *, until=None, start_tasks: bool = True) -> int:
    """Write the mailing's next ranges, committing each, until it is written (or ``until()`` says
    stop); returns the number of mails written. Safe from several workers at once.

    ``start_tasks``: start senders on the first ranges written and, once the mailing is
    written, the writers of the mailings that follow it (a caller writing by hand says no).
    """
    written = ranges = 0
    while until is None or not until():
        wake = start_tasks and ranges < current_app.config["MAIL_SENDERS"]
        count = write_mailing_range(mailing_id, now, wake_sender=wake, start_followers=start_tasks)
        if count is None:
            break
        written += count
        ranges += 1
    return written


def write_mailing_range(mailing_id: int, now: datetime, *, wake_sender: bool = True,
                        start_followers: bool = True) -> int | None:
    """Write one range of the mailing and commit; None when there is nothing left to write, it
    waits for the mailing it follows, or another worker is writing it right now. With
    ``wake_sender`` a sender task starts on the mail just written (senders keep claiming until
    the outbox is empty); with ``start_followers`` the last range starts the writers of the
    mailings that follow this one (the tick would, a minute later)."""
    mailing = db.session.get(Mailing, mailing_id, with_for_update={"skip_locked": True}, populate_existing=True)
    if mailing is None or mailing.written_dt is not None or not _its_turn(mailing):
        db.session.rollback()
        return None
    audience = AUDIENCES[mailing.audience]
    recipients = audience.query(mailing.params).subquery("recipients")
    low = mailing.next_key
    high = _range_end(recipients, low, mailing.last_key)
    in_range = and_(recipients.c.key > low, recipients.c.key <= high)
    _render_missing_parts(mailing, audience, recipients, in_range)
    count = db.session.execute(_insert(mailing, recipients, in_range)).rowcount
    mailing.next_key = high
    if high >= mailing.last_key:
        mailing.written_dt = now
        followers = select(Mailing).where(Mailing.follows_id == mailing.id, Mailing.written_dt.is_(None))
        for follower in db.session.scalars(followers) if start_followers else ():
            _hand_out(follower, now)
    if wake_sender and count:
        from capital.tasks.mail import send_due  # here: the task module builds on this one

        after_commit(send_due, now.isoformat())
    commit()
    return count


def _its_turn(mailing: Mailing) -> bool:
    if mailing.follows_id is None:
        return True
    return db.session.scalar(select(Mailing.written_dt).where(Mailing.id == mailing.follows_id)) is not None


def _range_end(recipients, low: int, last: int) -> int:
    """The key that ends the range starting after ``low``: about CAPITAL_MAILING_RANGE mails
    (every mail of its last key included), and never past ``last``."""
    size = current_app.config["MAILING_RANGE"]
    end = db.session.scalar(select(recipients.c.key).where(recipients.c.key > low, recipients.c.key <= last)
                            .order_by(recipients.c.key).offset(size - 1).limit(1))
    return last if end is None else end


def _render_missing_parts(mailing: Mailing, audience: Audience, recipients, in_range) -> None:
    """Render and store the parts the range needs that the mailing does not have yet."""
    named = recipients.c.name != ""
    needed = db.session.execute(select(recipients.c.locale, recipients.c.timezone, recipients.c.variant, named)
                                .where(in_range).distinct()).all()
    have = set(db.session.execute(select(MailingPart.locale, MailingPart.timezone, MailingPart.variant,
                                         MailingPart.is_named).where(MailingPart.mailing_id == mailing.id)).all())
    missing = [tuple(group) for group in needed if tuple(group) not in have]
    if missing:
        context = _decode(mailing.context)
        db.session.add_all(_render(mailing, audience, context, *group) for group in missing)
        db.session.flush()


def _render(mailing: Mailing, audience: Audience, context: dict, locale: str, timezone: str, variant: str,
            is_named: bool) -> MailingPart:
    with recipient_context(locale, timezone):
        values = {**context, **audience.variant_context(variant), "recipient_name": NAME_MARK if is_named else "",
                  "city": CITY_MARK, "unsubscribe_url": UNSUBSCRIBE_MARK if audience.has_unsubscribe else None}
        return MailingPart(mailing_id=mailing.id, locale=locale, timezone=timezone, variant=variant,
                           is_named=is_named, subject=gettext(mailing.subject, **context),
                           body_text=render_template(f"email/{mailing.kind}.txt", **values),
                           body_html=render_template(f"email/{mailing.kind}.html", **values))


def _insert(mailing: Mailing, recipients, in_range):
    r, parts = recipients.c, MailingPart.__table__
    key = literal(mail_key(mailing.cycle_id, mailing.kind, ""), String) + r.email  # "<cycle>:<kind>:" + address
    if mailing.occasion:
        key = key + literal(f":{mailing.occasion}", String)
    part = and_(parts.c.mailing_id == mailing.id, parts.c.locale == r.locale, parts.c.timezone == r.timezone,
                parts.c.variant == r.variant, parts.c.is_named == (r.name != ""))
    rows = select(
        key, literal(mailing.kind, String), literal(mailing.cycle_id), r.city_id, r.email, r.locale,
        parts.c.subject, literal("", String), literal("", String), literal("", String),
        literal(int(MailState.QUEUED)), literal(0), literal(mailing.created_dt, Mail.next_attempt_dt.type),
        literal("", String), literal(mailing.created_dt, Mail.created_dt.type), literal(mailing.id), parts.c.id,
        r.subscriber_id, r.name, r.city_name,
    ).select_from(recipients.join(parts, part)).where(in_range)
    columns = ["dedupe_key", "kind", "cycle_id", "city_id", "recipient", "locale", "subject", "body_text",
               "body_html", "message_id", "state", "attempts", "next_attempt_dt", "last_error", "created_dt",
               "mailing_id", "part_id", "subscriber_id", "recipient_name", "city_name"]
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    # An address already written (a city's contact who also subscribed, a second writer) keeps its one copy.
    insert = dialect.insert(Mail.__table__).from_select(columns, rows)
    # The count, not an id per mail sent back.
    return insert.on_conflict_do_nothing(index_elements=["dedupe_key"]).execution_options(preserve_rowcount=True)


def _encode(value):
    """A template context as JSON: datetimes tagged, tuples as lists."""
    if isinstance(value, datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, dict):
        return {str(name): _encode(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"a mailing's context holds JSON values and datetimes, not {type(value).__name__}")


def _decode(value):
    if isinstance(value, dict):
        if set(value) == {_DATETIME}:
            return datetime.fromisoformat(value[_DATETIME])
        return {name: _decode(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value
