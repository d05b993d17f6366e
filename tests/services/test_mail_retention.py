"""The outbox's retention rule: after CAPITAL_MAIL_RETENTION_DAYS a sent mail keeps who, what and when, and
loses its text; mail not sent is never touched, and the audit chain stays whole (docs/mail.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from capital.models import AuditEntry, Mail, MailingPart, MailState
from capital.services import mail as outbox
from capital.services.mail import mail_bodies, queue_mail, send_due_mail
from capital.services.mailings import queue_group_mail
from capital.services.ticks import run_tick
from tests.conftest import write_group_mail

NOW = datetime(2031, 6, 1, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=100)  # past the default 90 days
RECENT = NOW - timedelta(days=10)


def _reset(recipient: str, now: datetime) -> Mail:
    return queue_mail("password_reset", recipient=recipient, locale="fr", now=now, deliver_now=False,
                      subject="Reset your Capital password",
                      context={"name": "Ana", "link": "http://127.0.0.1:5000/x", "minutes": 60})


def _announcement(occasion: str | None = None):
    return queue_group_mail("announcement", "member_cities", subject="The Capital of Living Together %(year)s is %(capital)s",
                            context={"year": 2031, "capital": "Lyon", "announced": OLD, "link": "http://x"},
                            occasion=occasion, now=OLD)


def _tick(db, now: datetime) -> dict:
    summary = run_tick(now)
    db.session.commit()
    return summary


def test_old_sent_mail_loses_its_text_in_batches_and_nothing_unsent_or_in_the_audit_chain_changes(
        app, db, make_city, monkeypatch):
    monkeypatch.setattr(outbox, "RETENTION_BATCH", 2)
    make_city("Berlin")
    make_city("Lyon")
    sent_group, refused_group = _announcement(), _announcement("again")
    old = [_reset(f"old{n}@city.example", OLD) for n in range(3)]
    db.session.commit()
    write_group_mail(OLD)
    send_due_mail(OLD)  # everything written so far is sent, 100 days ago
    recent = _reset("recent@city.example", RECENT)
    db.session.commit()
    send_due_mail(RECENT)
    waiting, refused = _reset("waiting@city.example", OLD), _reset("refused@city.example", OLD)
    db.session.commit()
    db.session.get(Mail, refused.id).state = MailState.FAILED
    group_refused = db.session.scalars(select(Mail).where(Mail.mailing_id == refused_group.id)).first()
    group_refused.state = MailState.FAILED  # a refused copy may be queued again: its mailing keeps its text
    db.session.commit()
    sending = _reset("sending@city.example", OLD)
    db.session.commit()
    db.session.get(Mail, sending.id).state = MailState.SENDING
    db.session.commit()
    before = {m.id: (m.recipient, m.kind, m.subject, m.state, m.created_dt, m.sent_dt)
              for m in db.session.scalars(select(Mail))}
    texts = {m.id: mail_bodies(m) for m in db.session.scalars(select(Mail))}
    assert all(text and html for text, html in texts.values())

    assert _tick(db, NOW)["mail_retention"] > 0
    db.session.expire_all()
    assert sum(not db.session.get(Mail, m.id).body_text for m in old) == 2  # one batch of two
    _tick(db, NOW + timedelta(minutes=1))
    _tick(db, NOW + timedelta(minutes=2))  # nothing left: no entry either
    db.session.expire_all()

    mails = {m.id: m for m in db.session.scalars(select(Mail))}
    # Who, what and when stay for every mail.
    assert {i: (m.recipient, m.kind, m.subject, m.state, m.created_dt, m.sent_dt) for i, m in mails.items()} == before
    for mail in old:
        assert mail_bodies(mails[mail.id]) == ("", "")
    for mail in db.session.scalars(select(Mail).where(Mail.mailing_id == sent_group.id)):
        assert mail_bodies(mail) == ("", "")
    assert db.session.scalar(select(func.count(MailingPart.id)).where(
        MailingPart.mailing_id == sent_group.id, MailingPart.body_text != "")) == 0
    # Sent too recently, waiting, being sent, refused, or of a mailing with a refused copy: untouched.
    kept = [recent, waiting, refused, sending,
            *db.session.scalars(select(Mail).where(Mail.mailing_id == refused_group.id))]
    for mail in kept:
        assert mail_bodies(mails[mail.id]) == texts[mail.id], mail.recipient

    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "mail.bodies_dropped")
                                 .order_by(AuditEntry.seq)).all()
    assert [e.data["mails"] for e in entries] == [2, 1]
    assert entries[0].data["mailing_parts"] > 0 and entries[1].data["mailing_parts"] == 0
    result = app.test_cli_runner().invoke(args=["capital", "audit", "verify"])
    assert result.exit_code == 0 and "audit log intact" in result.output, result.output


def test_retention_is_off_at_zero_days(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_RETENTION_DAYS", 0)
    mail = _reset("old@city.example", OLD)
    db.session.commit()
    send_due_mail(OLD)
    _tick(db, NOW)
    db.session.expire_all()
    assert db.session.get(Mail, mail.id).body_text != ""
