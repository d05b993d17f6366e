"""The outbox against a real SMTP server (aiosmtpd): language, once only, outages, refusals, races."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import func, select

from capital.domain.roles import Role
from capital.models import AuditEntry, Mail, MailState
from capital.models.types import utcnow
from capital.services.accounts import invite
from capital.services.dispatch import commit
from capital.services.mail import (
    SENDING_LEASE, backoff, claim_due_mail, count_due_mail, deliver_mail, due_mail_ids, queue_mail, send_due_mail,
)
from tests.conftest import at_once, free_port, make_config

SUBJECT = "Reset your Capital password"


@pytest.fixture
def smtp_app(app, inbox, monkeypatch):
    """The shared app, sending through the test SMTP server instead of the outbox folder."""
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", inbox.port)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 5)
    return app


def _queue(recipient: str, now, **kwargs) -> Mail | None:
    return queue_mail("password_reset", recipient=recipient, locale=kwargs.pop("locale", "en"), subject=SUBJECT,
                      context={"name": "Ana", "link": "http://127.0.0.1:5000/x", "minutes": 60}, now=now, **kwargs)


def _reload(db, mail_id: int) -> Mail:
    db.session.expire_all()
    return db.session.get(Mail, mail_id)


# --- language -----------------------------------------------------------------------------

def _catalog_translation(locale: str, message: str) -> str:
    """What the project's own catalog says for ``message`` in ``locale``."""
    from babel.messages.pofile import read_po

    from capital.config import ROOT

    with (ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)[message].string


@pytest.fixture
def french_app(app, inbox, tmp_path):
    """An app with the project's catalogs, sending to the test SMTP server."""
    from capital import create_app
    from capital.extensions import db

    other = create_app(make_config(tmp_path / "instance", MAIL_SERVER="127.0.0.1", MAIL_PORT=inbox.port))
    yield other
    with other.app_context():
        db.engine.dispose()
    app.extensions["celery"].set_default()


def test_a_mail_is_written_in_the_recipients_language_not_the_senders(french_app, inbox):
    # The secretariat browses in German; each invitation follows its recipient's language.
    with french_app.test_request_context(headers={"Accept-Language": "de"}):
        now = utcnow()
        invite("marie@ville.example", Role.BOARD, locale="fr", actor="system", now=now)
        invite("sam@city.example", Role.BOARD, locale="en", actor="system", now=now)
        invite("layla@city.example", Role.BOARD, locale="ar", actor="system", now=now)
        commit()  # no broker: delivered in-process

    received = {message["To"]: message for message in inbox.messages}
    assert set(received) == {"marie@ville.example", "sam@city.example", "layla@city.example"}
    french = received["marie@ville.example"]
    assert french["Content-Language"] == "fr"
    assert french["Subject"] == _catalog_translation("fr", "You are invited to Capital") != "You are invited to Capital"
    link_line = _catalog_translation("fr", "Create your account with this link:")
    assert link_line in french.get_body(("plain",)).get_content()
    assert '<html lang="fr" dir="ltr">' in french.get_body(("html",)).get_content()

    english = received["sam@city.example"]
    assert english["Content-Language"] == "en"
    assert english["Subject"] == "You are invited to Capital"
    assert "Create your account with this link:" in english.get_body(("plain",)).get_content()

    arabic = received["layla@city.example"]  # no catalog yet: English words, Arabic page direction
    assert arabic["Content-Language"] == "ar"
    assert '<html lang="ar" dir="rtl">' in arabic.get_body(("html",)).get_content()


# --- at most once ---------------------------------------------------------------------------

def test_the_same_mail_is_recorded_once_per_cycle_kind_and_recipient(app, db):
    now = utcnow()
    first = _queue("someone@city.example", now)
    assert first is not None
    db.session.commit()
    assert _queue("  Someone@City.example ", now + timedelta(seconds=5)) is None  # same person, other spelling
    assert _queue("other@city.example", now) is not None
    db.session.commit()
    count = db.session.scalar(select(func.count(Mail.id)).where(Mail.recipient == "someone@city.example"))
    assert count == 1


# --- outages and refusals --------------------------------------------------------------------

def test_while_the_mail_server_is_down_the_mail_waits_and_is_sent_once_it_is_back(smtp_app, db, inbox, monkeypatch):
    now = utcnow()
    mail_id = _queue("someone@city.example", now).id
    db.session.commit()

    monkeypatch.setitem(smtp_app.config, "MAIL_PORT", free_port())  # nothing listens there
    assert deliver_mail(mail_id, now) == MailState.QUEUED
    mail = _reload(db, mail_id)
    assert mail.attempts == 1
    assert "ConnectionRefused" in mail.last_error
    assert mail.next_attempt_dt == now + backoff(1) > now
    assert mail_id not in due_mail_ids(now + backoff(1) - timedelta(seconds=1))

    monkeypatch.setitem(smtp_app.config, "MAIL_PORT", inbox.port)  # the server is back
    assert deliver_mail(mail_id, now + timedelta(seconds=30)) == MailState.QUEUED  # not due yet: no attempt
    assert _reload(db, mail_id).attempts == 1
    assert inbox.messages == []

    due = now + backoff(1)
    assert mail_id in due_mail_ids(due)
    assert deliver_mail(mail_id, due) == MailState.SENT
    mail = _reload(db, mail_id)
    assert (mail.state, mail.attempts, mail.sent_dt, mail.last_error) == (MailState.SENT, 2, due, "")
    assert [message["To"] for message in inbox.messages] == ["someone@city.example"]


def test_back_off_doubles_and_stops_at_six_hours():
    assert [backoff(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert backoff(30) == timedelta(hours=6)


def test_a_recipient_refused_for_good_fails_and_is_not_retried(smtp_app, db, inbox):
    inbox.refused["nobody@city.example"] = "550 5.1.1 No such user here"
    now = utcnow()
    mail_id = _queue("nobody@city.example", now).id
    db.session.commit()

    assert deliver_mail(mail_id, now) == MailState.FAILED
    mail = _reload(db, mail_id)
    assert mail.attempts == 1
    assert "550" in mail.last_error
    later = now + timedelta(days=1)
    assert mail_id not in due_mail_ids(later)
    assert deliver_mail(mail_id, later) == MailState.FAILED
    assert _reload(db, mail_id).attempts == 1
    assert inbox.messages == []


def test_a_recipient_refused_for_now_is_retried_later(smtp_app, db, inbox):
    inbox.refused["busy@city.example"] = "450 4.2.1 Mailbox busy, try later"
    now = utcnow()
    mail_id = _queue("busy@city.example", now).id
    db.session.commit()

    assert deliver_mail(mail_id, now) == MailState.QUEUED
    mail = _reload(db, mail_id)
    assert "450" in mail.last_error
    assert mail.next_attempt_dt == now + backoff(1)

    del inbox.refused["busy@city.example"]
    assert deliver_mail(mail_id, now + backoff(1)) == MailState.SENT
    assert len(inbox.messages) == 1


def test_two_workers_delivering_the_same_mail_at_once_send_it_once(smtp_app, db, inbox):
    inbox.data_delay = 0.5  # keep the first hand-over open while the second worker arrives
    now = utcnow()
    mail_id = _queue("someone@city.example", now).id
    db.session.commit()
    db.session.close()

    results = at_once(smtp_app, lambda: deliver_mail(mail_id, now))
    assert len(inbox.messages) == 1
    assert len(results) == 2 and results.count(MailState.SENT) == 1
    assert set(results) - {MailState.SENT} <= {None, MailState.SENDING}  # the other one stood aside
    mail = _reload(db, mail_id)
    assert (mail.state, mail.attempts) == (MailState.SENT, 1)


# --- the outbox folder (no mail server configured) ---------------------------------------------

def test_the_outbox_folder_gets_exactly_one_eml_per_mail(app, db):
    now = utcnow()
    ids = [_queue(f"person{n}@city.example", now, locale=locale).id for n, locale in enumerate(("en", "fr"))]
    commit()  # no broker: delivered in-process, into the folder
    for mail_id in ids:  # a repeat (a late task, a tick) writes nothing more
        assert deliver_mail(mail_id, now + timedelta(hours=1)) == MailState.SENT

    folder = app.config["MAIL_OUTBOX_DIR"]
    files = sorted(folder.iterdir())
    assert [path.suffix for path in files] == [".eml", ".eml"]
    assert not [path for path in files if path.name.startswith(".")]  # no temporary file left
    messages = [message_from_bytes(path.read_bytes(), policy=policy.default) for path in files]
    assert sorted(message["To"] for message in messages) == ["person0@city.example", "person1@city.example"]
    assert sorted(message["Content-Language"] for message in messages) == ["en", "fr"]
    for message in messages:
        expected = SUBJECT if message["Content-Language"] == "en" else _catalog_translation("fr", SUBJECT)
        assert message["Subject"] == expected
        assert message.get_body(("html",)) is not None
    assert {_reload(db, mail_id).state for mail_id in ids} == {MailState.SENT}


# --- sending in batches ---------------------------------------------------------------------------

@pytest.fixture
def connections(monkeypatch):
    """Counts the SMTP connections opened."""
    import smtplib

    opened = []
    original = smtplib.SMTP.connect

    def connect(self, *args, **kwargs):
        opened.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "connect", connect)
    return opened


def _queue_many(db, count: int, now) -> list[int]:
    ids = [_queue(f"person{n}@city.example", now, deliver_now=False).id for n in range(count)]
    db.session.commit()
    return ids


def test_a_batch_goes_over_one_connection_and_each_mail_once(smtp_app, db, inbox, connections):
    now = utcnow()
    _queue_many(db, 25, now)
    assert send_due_mail(now, batch_size=10) == 25
    assert len(connections) == 3  # 10 + 10 + 5
    assert sorted(message["To"] for message in inbox.messages) == sorted(f"person{n}@city.example" for n in range(25))
    assert send_due_mail(now + timedelta(hours=1)) == 0
    assert len(inbox.messages) == 25


def test_marks_that_skip_the_disk_wait_leave_every_pooled_connection_durable(smtp_app, db, inbox, monkeypatch):
    monkeypatch.setitem(smtp_app.config, "MAIL_DURABLE_MARKS", False)  # the default: marks without the wait
    now = utcnow()
    ids = _queue_many(db, 3, now)
    assert send_due_mail(now, batch_size=10) == 3
    assert {_reload(db, mail_id).state for mail_id in ids} == {MailState.SENT}
    db.session.commit()  # the test's own connection goes back too
    # Every idle connection of the pool, the marking one among them: what a ballot or a result
    # committed on it next would get.
    connections = [db.engine.connect() for _ in range(db.engine.pool.checkedin())]
    try:
        assert connections
        assert {c.exec_driver_sql("SHOW synchronous_commit").scalar_one() for c in connections} == {"on"}
    finally:
        for connection in connections:
            connection.close()


def test_mail_server_down_then_up_delivers_every_mail_exactly_once(smtp_app, db, inbox, monkeypatch):
    now = utcnow()
    ids = _queue_many(db, 12, now)
    monkeypatch.setitem(smtp_app.config, "MAIL_PORT", free_port())  # nothing listens there
    assert send_due_mail(now, batch_size=5) == 0
    db.session.expire_all()
    assert {(m.state, m.attempts) for m in db.session.scalars(select(Mail))} == {(MailState.QUEUED, 1)}
    assert count_due_mail(now, 10) == 0  # backing off

    monkeypatch.setitem(smtp_app.config, "MAIL_PORT", inbox.port)
    later = now + backoff(1)
    assert send_due_mail(later, batch_size=5) == 12
    assert sorted(message["To"] for message in inbox.messages) == sorted(f"person{n}@city.example" for n in range(12))
    assert {_reload(db, mail_id).state for mail_id in ids} == {MailState.SENT}


def test_after_the_last_try_a_mail_fails_and_can_be_retried_from_the_command_line(smtp_app, db, inbox, monkeypatch):
    monkeypatch.setitem(smtp_app.config, "MAIL_MAX_ATTEMPTS", 3)
    monkeypatch.setitem(smtp_app.config, "MAIL_PORT", free_port())
    now = utcnow()
    [mail_id] = _queue_many(db, 1, now)
    moment = now
    for attempt in (1, 2, 3):
        send_due_mail(moment)
        moment += backoff(attempt)
    mail = _reload(db, mail_id)
    assert (mail.state, mail.attempts) == (MailState.FAILED, 3)
    assert send_due_mail(moment + timedelta(days=2)) == 0  # never retried on its own

    runner = smtp_app.test_cli_runner()
    listing = runner.invoke(args=["capital", "outbox"])
    assert listing.exit_code == 0 and "failed: 1" in listing.output and "person0@city.example" in listing.output
    assert "ConnectionRefused" in listing.output
    assert runner.invoke(args=["capital", "outbox", "--retry", "999"]).exit_code != 0

    monkeypatch.setitem(smtp_app.config, "MAIL_PORT", inbox.port)
    retried = runner.invoke(args=["capital", "outbox", "--retry", str(mail_id)])
    assert retried.exit_code == 0 and "1 failed mail(s) queued again" in retried.output, retried.output
    mail = _reload(db, mail_id)
    assert mail.state == MailState.SENT  # no broker: the retry is sent at once
    assert [message["To"] for message in inbox.messages] == ["person0@city.example"]
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "mail.retried")) == 1


def test_retry_all_queues_every_failed_mail(smtp_app, db, inbox):
    now = utcnow()
    ids = _queue_many(db, 3, now)
    for mail_id in ids:
        db.session.get(Mail, mail_id).state = MailState.FAILED
    db.session.commit()
    result = smtp_app.test_cli_runner().invoke(args=["capital", "outbox", "--retry-all"])
    assert "3 failed mail(s) queued again" in result.output
    assert len(inbox.messages) == 3


def test_two_senders_at_once_share_the_outbox_without_sending_twice(smtp_app, db, inbox):
    now = utcnow()
    _queue_many(db, 60, now)
    db.session.close()
    counts = at_once(smtp_app, lambda: send_due_mail(now, batch_size=7))
    assert sum(counts) == 60
    recipients = [message["To"] for message in inbox.messages]
    assert len(recipients) == len(set(recipients)) == 60


def test_a_sender_that_died_mid_batch_leaves_its_unsent_mail_to_the_next_after_the_lease(smtp_app, db, inbox):
    now = utcnow()
    _queue_many(db, 4, now)
    claimed = claim_due_mail(now, 4)  # ... and the worker is killed before sending anything
    assert len(claimed) == 4 and claim_due_mail(now, 4) == []
    assert send_due_mail(now + SENDING_LEASE - timedelta(seconds=1)) == 0  # still leased
    assert send_due_mail(now + SENDING_LEASE) == 4
    assert len(inbox.messages) == 4


def test_on_sqlite_the_sender_claims_in_batches_too(sqlite_app):
    from capital.extensions import db

    with sqlite_app.app_context():
        now = utcnow()
        for n in range(5):
            _queue(f"person{n}@city.example", now, deliver_now=False)
        db.session.commit()
        assert claim_due_mail(now, 2) == [1, 2]
        assert send_due_mail(now, batch_size=2) == 3  # the two claimed above wait for their lease
        assert len(list(sqlite_app.config["MAIL_OUTBOX_DIR"].glob("*.eml"))) == 3
        assert send_due_mail(now + SENDING_LEASE, batch_size=2) == 2
        db.session.remove()


def test_long_and_non_latin_headers_read_back_exactly(app, db):
    from email import message_from_bytes, policy

    from capital.services.mail import build_message

    subject = "提醒：2031年共同生活之都的提名即将截止 — Erinnerung: Die Nominierungen für die Hauptstadt enden bald"
    mail = Mail(dedupe_key="-:t:x", kind="t", recipient="wei@city.example", locale="zh", subject=subject,
                body_text="文本", body_html="<p>文本</p>", message_id="<1@capital>", created_dt=utcnow())
    read = message_from_bytes(bytes(build_message(mail)), policy=policy.default)
    assert read["Subject"] == subject
    assert read.get_body(("plain",)).get_content().strip() == "文本"
    assert read["Content-Language"] == "zh" and read["Message-ID"] == "<1@capital>"
