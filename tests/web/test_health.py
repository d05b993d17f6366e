"""/healthz as an operator's monitor reads it: the database, the broker, the outbox and the tick."""

from __future__ import annotations

from datetime import timedelta

import pytest

from capital.extensions import db as _db
from capital.models import Mail, MailState, WorkerHeartbeat
from capital.models.types import utcnow
from capital.services.dispatch import commit
from capital.services.ticks import run_tick
from tests.conftest import TEST_REDIS_URL, make_config


@pytest.fixture
def app_with_broker(app, tmp_path):
    """Build an app on the test database whose broker is the given URL (no start-up check)."""
    from capital import create_app

    built = []

    def build(broker_url):
        built.append(create_app(make_config(tmp_path, CELERY_BROKER_URL=broker_url)))
        return built[-1]

    yield build
    for other in built:
        with other.app_context():
            _db.engine.dispose()  # its own pool: close its connections now, not at garbage collection
    app.extensions["celery"].set_default()  # create_app made its own Celery the default


def _mail(n: int, state: MailState) -> Mail:
    now = utcnow()
    return Mail(dedupe_key=f"-:test:{n}", kind="test", recipient=f"r{n}@city.example", locale="en",
                subject="s", body_text="t", body_html="<p>t</p>", message_id=f"<{n}@capital>",
                state=state, next_attempt_dt=now, created_dt=now - timedelta(minutes=n))


def test_healthz_reports_the_database_an_in_process_broker_and_the_outbox(client, db):
    states = [MailState.QUEUED, MailState.QUEUED, MailState.SENDING, MailState.SENT, MailState.SENT,
              MailState.SENT, MailState.FAILED]
    db.session.add_all(_mail(n, state) for n, state in enumerate(states))
    db.session.commit()

    response = client.get("/healthz")
    assert response.status_code == 200
    report = response.get_json()
    assert report["status"] == "ok"
    assert report["database"] == {"ok": True, "backend": "postgresql"}
    assert report["broker"] == {"ok": True, "configured": False, "mode": "in-process"}
    outbox = report["outbox"]
    assert outbox["backend"] == "folder"
    assert (outbox["queued"], outbox["sent"], outbox["failed"]) == (3, 3, 1)  # sending counts as waiting
    waiting = db.session.query(Mail).filter(Mail.state.in_([MailState.QUEUED, MailState.SENDING]))
    oldest = min(mail.created_dt for mail in waiting)  # a mail being handed over is still waiting
    assert outbox["oldest_queued_dt"] == oldest.isoformat()
    assert outbox["oldest_queued_age_seconds"] >= 60


def test_healthz_with_an_empty_outbox_and_no_tick_yet(client):
    report = client.get("/healthz").get_json()
    assert (report["outbox"]["queued"], report["outbox"]["sent"], report["outbox"]["failed"]) == (0, 0, 0)
    assert report["outbox"]["oldest_queued_dt"] is None
    assert report["tick"] == {"last_run_dt": None, "runs": 0, "is_late": True}


def test_healthz_is_503_when_the_configured_broker_is_down(app_with_broker):
    down = app_with_broker("redis://127.0.0.1:1/0")
    response = down.test_client().get("/healthz")
    assert response.status_code == 503
    report = response.get_json()
    assert report["status"] == "unavailable"
    assert report["broker"]["ok"] is False
    assert report["broker"]["configured"] is True
    assert "onnect" in report["broker"]["error"]  # the reason, e.g. "ConnectionError: … refused"
    assert report["database"]["ok"] is True  # the rest is still reported


@pytest.mark.redis
def test_healthz_is_200_with_the_real_redis_broker(app_with_broker):
    up = app_with_broker(TEST_REDIS_URL)
    response = up.test_client().get("/healthz")
    assert response.status_code == 200
    report = response.get_json()
    assert report["broker"] == {"ok": True, "configured": True, "mode": "celery"}


def test_tick_is_on_time_right_after_a_tick_and_late_when_old(client, db):
    run_tick(utcnow())
    commit()
    tick = client.get("/healthz").get_json()["tick"]
    assert tick["is_late"] is False
    assert tick["runs"] == 1
    assert tick["last_run_dt"] is not None

    beat = db.session.get(WorkerHeartbeat, "tick")
    beat.last_run_dt = utcnow() - timedelta(minutes=10)  # ten missed one-minute ticks
    db.session.commit()
    response = client.get("/healthz")
    assert response.status_code == 200  # a late beat is reported, not an outage of the web app
    assert response.get_json()["tick"]["is_late"] is True


def test_a_repeated_tick_moves_the_heartbeat_forward_only(client, db):
    later = utcnow()
    run_tick(later)
    commit()
    run_tick(later - timedelta(minutes=5))  # a tick delivered late by the broker
    commit()
    _db.session.expire_all()
    beat = db.session.get(WorkerHeartbeat, "tick")
    assert beat.runs == 2
    assert beat.last_run_dt == later


def test_the_secretariat_sees_the_outbox_backlog_failures_and_the_last_tick(client, db, make_user):
    from capital.domain.roles import Role

    states = [MailState.QUEUED, MailState.SENDING, MailState.SENT, MailState.FAILED]
    db.session.add_all(_mail(n, state) for n, state in enumerate(states))
    db.session.commit()
    failed = db.session.query(Mail).filter(Mail.state == MailState.FAILED).one()
    failed.last_error = "SMTPRecipientsRefused: 550 No such user"
    db.session.commit()
    run_tick(utcnow())
    db.session.commit()
    client.login(make_user(Role.SECRETARIAT).email)

    page = client.get("/secretariat/").get_data(as_text=True)
    assert "Waiting to be sent</dt><dd>2</dd>" in page
    assert "Failed mails</dt><dd><a href=\"/secretariat/mail?state=4\">1</a></dd>" in page
    assert "Last tick</dt><dd>never" not in page and "Oldest waiting mail</dt><dd>—" not in page

    listing = client.get("/secretariat/mail?state=4").get_data(as_text=True)
    assert "r3@city.example" in listing and "550 No such user" in listing
    assert "r0@city.example" not in listing


def test_past_the_counting_limit_the_outbox_says_more_than_or_about(client, db, make_user, monkeypatch):
    """Each count is a bounded read: past COUNT_LIMIT it is a floor, or the database's own estimate."""
    from sqlalchemy import text

    from capital.domain.roles import Role
    from capital.services import health

    monkeypatch.setattr(health, "COUNT_LIMIT", 3)
    states = [MailState.QUEUED] * 5 + [MailState.SENT] * 6 + [MailState.FAILED]
    db.session.add_all(_mail(n, state) for n, state in enumerate(states))
    db.session.commit()
    db.session.execute(text("ANALYZE mails"))  # the estimate PostgreSQL would keep after autovacuum
    db.session.commit()
    outbox = client.get("/healthz").get_json()["outbox"]
    assert outbox["counts"] == {"queued": "at_least", "sent": "about", "failed": "exact"}
    assert (outbox["queued"], outbox["failed"]) == (3, 1) and outbox["sent"] == 12 - 3 - 1
    client.login(make_user(Role.SECRETARIAT).email)
    page = client.get("/secretariat/").get_data(as_text=True)
    assert "Waiting to be sent</dt><dd>more than 3</dd>" in page and "Sent</dt><dd>about 8</dd>" in page
