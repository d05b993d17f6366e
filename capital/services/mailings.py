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

import logging
import threading
from datetime import datetime

from flask import current_app, render_template
from flask_babel import gettext
from sqlalchemy import String, and_, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from capital.extensions import db
from capital.models import Mail, Mailing, MailingPart, MailState
from capital.services.audiences import AUDIENCES, Audience
from capital.services.dispatch import after_commit, commit
from capital.services.mail import CITY_MARK, NAME_MARK, UNSUBSCRIBE_MARK, mail_key, recipient_context

log = logging.getLogger(__name__)
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

    On PostgreSQL, ``CAPITAL_MAILING_WRITERS`` ranges are written at once, each by its own
    connection in its own transaction, committed in key order (:func:`write_mailing_ranges`).

    ``start_tasks``: start senders on the first ranges written and, once the mailing is
    written, the writers of the mailings that follow it (a caller writing by hand says no).
    """
    writers = current_app.config["MAILING_WRITERS"] if db.session.get_bind().dialect.name == "postgresql" else 1
    written = ranges = 0
    while until is None or not until():
        wake = start_tasks and ranges < current_app.config["MAIL_SENDERS"]
        count = -1
        if writers > 1:
            count = write_mailing_ranges(mailing_id, now, writers, wake_sender=wake, start_followers=start_tasks)
        if count == -1:  # one range at a time (SQLite), or once when no range of a batch committed
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
    found = _mailing_to_write(mailing_id)
    if found is None:
        return None
    mailing, audience, recipients = found
    low = mailing.next_key
    high = _range_end(recipients, low, mailing.last_key)
    in_range = and_(recipients.c.key > low, recipients.c.key <= high)
    _render_missing_parts(mailing, audience, recipients, in_range)
    count = db.session.execute(_insert(mailing, recipients, in_range)).rowcount
    mailing.next_key = high
    if high >= mailing.last_key:
        mailing.written_dt = now
    _after_writing(mailing, count, now, wake_sender=wake_sender, start_followers=start_followers)
    return count


def write_mailing_ranges(mailing_id: int, now: datetime, writers: int, *, wake_sender: bool = True,
                         start_followers: bool = True) -> int | None:
    """PostgreSQL: write the mailing's next ``writers`` ranges at once and return the number of
    mails written; None as :func:`write_mailing_range` would, -1 when a range did not commit.

    The parts the ranges need are rendered and committed first; then each range is inserted by
    its own connection, in its own transaction, and commits only after the range before it has
    (each holds an advisory lock until its commit, which the next one waits for, where deadlock
    detection sees it), moving the cursor from exactly where that range left it. What is
    committed is therefore always the ranges up to the cursor: a worker killed half-way leaves
    no gap, and the unique key no duplicate. A session-level advisory lock keeps a second worker
    off the mailing meanwhile.
    """
    guard = db.engine.connect()  # its own connection: a session lock must be released where it was taken
    try:
        if not guard.scalar(select(func.pg_try_advisory_lock(mailing_id, _WRITING))):
            guard.rollback()
            return None
        guard.commit()
        return _write_at_once(mailing_id, now, writers, wake_sender=wake_sender, start_followers=start_followers)
    finally:
        try:
            guard.rollback()
            guard.execute(select(func.pg_advisory_unlock_all()))
            guard.commit()
        except Exception:  # a broken connection: thrown away (the lock goes with it), never pooled again
            log.warning("could not release the writing lock of mailing %s", mailing_id, exc_info=True)
            guard.invalidate()
        finally:
            guard.close()


# Advisory locks (mailing id, n): _WRITING while a worker writes ranges at once, n >= 0 for the
# n-th range of a batch until it commits.
_WRITING = -1


def _write_at_once(mailing_id: int, now: datetime, writers: int, *, wake_sender: bool,
                   start_followers: bool) -> int | None:
    found = _mailing_to_write(mailing_id)
    if found is None:
        return None
    mailing, audience, recipients = found
    bounds, high = [], mailing.next_key
    while len(bounds) < writers and high < mailing.last_key:
        low, high = high, _range_end(recipients, high, mailing.last_key)
        bounds.append((low, high))
    if not bounds:
        db.session.rollback()
        return -1
    key = recipients.c.key
    _render_missing_parts(mailing, audience, recipients, and_(key > bounds[0][0], key <= high))
    ranges = [_Range(n, mailing_id, low, high, _insert(mailing, recipients, and_(key > low, key <= high)),
                     now if high >= mailing.last_key else None) for n, (low, high) in enumerate(bounds)]
    db.session.commit()  # the parts, for the ranges' connections to see
    engine, started = db.engine, []
    for item in ranges:
        thread = threading.Thread(target=item.write, args=(engine, started[-1][0] if started else None), daemon=True)
        thread.start()
        item.locked.wait()  # the range holds its lock before the next one starts waiting for it
        started.append((item, thread))
    for _, thread in started:
        thread.join()
    committed = [item for item in ranges if item.count is not None]
    count = sum(item.count for item in committed)
    mailing = db.session.get(Mailing, mailing_id, populate_existing=True)
    _after_writing(mailing, count, now, wake_sender=wake_sender and bool(committed),
                   start_followers=start_followers and bool(committed))
    return count if committed else -1


class _Range:
    """One range of a batch, written on its own connection (a thread of :func:`_write_at_once`)."""

    def __init__(self, n: int, mailing_id: int, low: int, high: int, insert, written_dt: datetime | None):
        self.n, self.mailing_id, self.low, self.high, self.insert = n, mailing_id, low, high, insert
        self.written_dt, self.count, self.locked = written_dt, None, threading.Event()

    def write(self, engine, before: _Range | None) -> None:
        try:
            with engine.connect() as connection:
                connection.execute(select(func.pg_advisory_xact_lock(self.mailing_id, self.n)))
                self.locked.set()
                count = connection.execute(self.insert).rowcount
                if before is not None:  # granted once the range before has committed or rolled back
                    connection.execute(select(func.pg_advisory_xact_lock_shared(self.mailing_id, before.n)))
                mailings = Mailing.__table__
                moved = connection.execute(
                    update(mailings).where(mailings.c.id == self.mailing_id, mailings.c.next_key == self.low)
                    .values(next_key=self.high, written_dt=self.written_dt)).rowcount
                if moved:
                    connection.commit()
                    self.count = count
                else:  # the range before did not commit: this one must not either
                    connection.rollback()
        except Exception:  # a deadlock or a lost connection: rolled back; the next batch writes it again
            log.warning("range (%s, %s] of mailing %s not written", self.low, self.high, self.mailing_id,
                        exc_info=True)
        finally:
            self.locked.set()


def _after_writing(mailing: Mailing, count: int, now: datetime, *, wake_sender: bool, start_followers: bool) -> None:
    """Commit, starting senders on the mail just written and, once the mailing is written, the
    writers of the mailings that follow it."""
    if mailing.written_dt is not None and start_followers:
        followers = select(Mailing).where(Mailing.follows_id == mailing.id, Mailing.written_dt.is_(None))
        for follower in db.session.scalars(followers):
            _hand_out(follower, now)
    if wake_sender and count:
        from capital.tasks.mail import send_due  # here: the task module builds on this one

        after_commit(send_due, now.isoformat())
    commit()


def _mailing_to_write(mailing_id: int):
    """The mailing (its row locked), its audience and recipients; None, rolled back, when it is
    written, waits for the one it follows, or another worker holds it."""
    mailing = db.session.get(Mailing, mailing_id, with_for_update={"skip_locked": True}, populate_existing=True)
    if mailing is None or mailing.written_dt is not None or not _its_turn(mailing):
        db.session.rollback()
        return None
    audience = AUDIENCES[mailing.audience]
    return mailing, audience, audience.query(mailing.params).subquery("recipients")


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
