"""The mail outbox: every mail is recorded before it is sent (docs/operations.md)."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text
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
    """One mail to many subscribers (the announcement): rendered once per language, then
    written to the outbox in ranges of subscriber ids, each range in its own transaction."""

    __tablename__ = "mailings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "<cycle>:<kind>": a cycle's announcement goes out once.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(50))
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id", ondelete="SET NULL"), index=True)
    # {locale: {"subject": …, "text": …, "html": …}}; the bodies hold UNSUBSCRIBE_MARK.
    contents: Mapped[dict] = mapped_column(JSON, default=dict)
    # Subscribers with an id up to here have their mail written; writing stops at last_subscriber_id.
    next_subscriber_id: Mapped[int] = mapped_column(default=0)
    last_subscriber_id: Mapped[int] = mapped_column(default=0)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    written_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Mail(db.Model):
    __tablename__ = "mails"
    __table_args__ = (
        enum_check("state", MailState),
        Index("ix_mails_due", "state", "next_attempt_dt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # "<cycle or ->:<kind>:<recipient>[:<occasion>]": each is sent at most once. The occasion
    # tells apart the rounds of one kind of mail (a reminder's day count, a decision's id).
    dedupe_key: Mapped[str] = mapped_column(String(400), unique=True)
    kind: Mapped[str] = mapped_column(String(50), index=True)
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id", ondelete="SET NULL"), index=True)
    city_id: Mapped[int | None] = mapped_column(ForeignKey("cities.id", ondelete="SET NULL"), index=True)
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
    # A subscriber's copy of a mailing: the body is the mailing's, with its own unsubscribe link.
    mailing_id: Mapped[int | None] = mapped_column(ForeignKey("mailings.id", ondelete="CASCADE"), index=True)
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="SET NULL"), index=True)
