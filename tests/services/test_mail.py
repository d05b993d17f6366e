"""The outbox against a real SMTP server (aiosmtpd): language, once only, outages, refusals, races."""

from __future__ import annotations

import threading
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import func, select

from capital.domain.roles import Role
from capital.models import Mail, MailState
from capital.models.types import utcnow
from capital.services.accounts import invite
from capital.services.dispatch import commit
from capital.services.mail import backoff, deliver_mail, due_mail_ids, queue_mail
from tests.conftest import free_port, make_config

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

    start = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            with smtp_app.app_context():
                start.wait(timeout=10)
                results.append(deliver_mail(mail_id, now))
        except Exception as exc:  # noqa: BLE001  (reported below; a thread's exception would otherwise be lost)
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
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
