"""The mail outbox: every mail is recorded before it is sent (docs/operations.md)."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from capital.domain.messages import N_, Titled
from capital.extensions import db
from capital.models.types import IntEnumType, UTCDateTime, enum_check, utcnow


class MailState(Titled, IntEnum):
    QUEUED = 1  # waiting for its next attempt
    SENDING = 2  # handed to the mail server; confirmed by SENT
    SENT = 3
    FAILED = 4  # refused for good by the mail server; shown to the secretariat


MAIL_STATE_TITLES = MailState.set_titles({
    MailState.QUEUED: N_("Waiting"), MailState.SENDING: N_("Sending"), MailState.SENT: N_("Sent"),
    MailState.FAILED: N_("Refused"),
})


class Mailing(db.Model):
    """One mail to a group (member cities, the roll, the subscribers…), written in ranges.

    The transaction that causes it records *what* (the template, the subject, the context) goes
    to *whom* (an audience: a named recipients query and its parameters); a task then renders
    it once per language, time zone and variant (a :class:`MailingPart`) and writes the
    recipients' mails range of keys by range, each range in its own transaction
    (docs/mail.md, ``capital.services.mailings``).
    """

    __tablename__ = "mailings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "<cycle>:<kind>:<audience>[:<occasion>]": each is recorded once.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(50))
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id", ondelete="SET NULL"), index=True)
    # A name of capital.services.audiences.AUDIENCES and what its query needs.
    audience: Mapped[str] = mapped_column(String(50))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    # The subject's message id and the templates' context, frozen when the mailing is recorded.
    subject: Mapped[str] = mapped_column(String(300), default="")
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    # Tells the rounds of one kind apart in each mail's dedupe key (a reminder's day count).
    occasion: Mapped[str | None] = mapped_column(String(100))
    # Written only once this one is (a city's contact who also subscribed keeps the city's copy).
    follows_id: Mapped[int | None] = mapped_column(ForeignKey("mailings.id", ondelete="SET NULL"))
    # Recipients with a key up to next_key have their mail written; writing stops at last_key.
    next_key: Mapped[int] = mapped_column(default=0)
    last_key: Mapped[int] = mapped_column(default=0)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    written_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MailingPart(db.Model):
    """A mailing rendered for one language, time zone and variant, with marks where each
    recipient's own name, city and unsubscribe link go (put in when the mail is sent)."""

    __tablename__ = "mailing_parts"
    __table_args__ = (UniqueConstraint("mailing_id", "locale", "timezone", "variant", "is_named"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_id: Mapped[int] = mapped_column(ForeignKey("mailings.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(8))
    timezone: Mapped[str] = mapped_column(String(64))
    # What the audience tells apart beyond language and zone (a recusal, say); "" for most.
    variant: Mapped[str] = mapped_column(String(100), default="")
    # Greets its recipients by name (people), or not (a city's contact address, a subscriber).
    is_named: Mapped[bool] = mapped_column(default=False)
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)


# The outbox grows by a million rows a year; what is read often is kept in small partial indexes.
UNSENT = text("state IN (1, 2)")  # QUEUED, SENDING
FAILED = text("state = 4")
BODIES_KEPT = text("state = 3 AND (body_text <> '' OR body_html <> '')")  # SENT, bodies not yet dropped
ABOUT_A_CITY = text("city_id IS NOT NULL")  # not the million subscribers' mails


def _partial(name: str, *columns: str, where) -> Index:
    return Index(name, *columns, postgresql_where=where, sqlite_where=where)


class Mail(db.Model):
    __tablename__ = "mails"
    __table_args__ = (
        enum_check("state", MailState),
        _partial("ix_mails_due", "next_attempt_dt", where=UNSENT),  # the senders' claim
        _partial("ix_mails_unsent", "created_dt", "id", where=UNSENT),  # the oldest waiting; the log's filter
        _partial("ix_mails_failed", "created_dt", "id", where=FAILED),
        _partial("ix_mails_bodies_kept", "sent_dt", where=BODIES_KEPT),  # the retention rule
        Index("ix_mails_recorded", "created_dt", "id"),  # the mail log, newest first, by keyset
        _partial("ix_mails_city_recorded", "city_id", "created_dt", where=ABOUT_A_CITY),  # a city's mail history
        Index("ix_mails_mailing_state", "mailing_id", "state"),  # a mailing's unsent mail
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # "<cycle or ->:<kind>:<recipient>[:<occasion>]": each is sent at most once. The occasion
    # tells apart the rounds of one kind of mail (a reminder's day count, a decision's id).
    dedupe_key: Mapped[str] = mapped_column(String(400), unique=True)
    kind: Mapped[str] = mapped_column(String(50))
    # No foreign keys on the outbox: a group mail writes a million rows, and a key is checked (a
    # lookup and a row lock) on every row written, which halved the writing speed. What they would
    # guard is never deleted (cycles, cities, mailings, their parts, subscribers: a subscriber who
    # leaves is marked, not removed), and the writer takes every id from the row it points at.
    cycle_id: Mapped[int | None] = mapped_column()
    city_id: Mapped[int | None] = mapped_column()
    recipient: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(200))
    state: Mapped[MailState] = mapped_column(IntEnumType(MailState), default=MailState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A mail of a mailing: its bodies are its part's, with the recipient's own name, city and
    # (for a subscriber) unsubscribe link put in when it is sent; its own bodies stay empty.
    mailing_id: Mapped[int | None] = mapped_column()
    part_id: Mapped[int | None] = mapped_column()
    subscriber_id: Mapped[int | None] = mapped_column(index=True)  # an unsubscribe withdraws their unsent mail
    recipient_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    city_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
