"""A real Celery worker (and beat) on redis, delivering to a real SMTP server (aiosmtpd).

The worker is a separate process started from ``celery_worker.py`` exactly as in production; it
shares the test PostgreSQL database with this process, so every test waits for it to be idle
before it ends (the next test truncates the tables).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from capital.config import ROOT
from capital.domain.roles import Role
from capital.extensions import db as _db
from capital.models import Mail, MailState, WorkerHeartbeat
from capital.models.types import utcnow
from capital.services.accounts import invite
from capital.services.dispatch import commit
from tests.conftest import TEST_DATABASE_URL, WebClient, make_config, smtp_server

pytestmark = pytest.mark.redis  # and PostgreSQL, through its fixtures

# A redis database of its own: the worker must not take tasks meant for anyone else.
WORKER_REDIS_URL = os.environ.get("TEST_WORKER_REDIS_URL", "redis://127.0.0.1:6379/13")
SECRET_KEY = "worker-test-secret-key-shared-by-app-and-worker"
CELERY = str(Path(sys.executable).parent / "celery")
TICK = "capital.tasks.deadlines.tick"
LINK = re.compile(r"http://127\.0\.0\.1:5000(/account/invitation/[^\s\"<]+)")


def wait_for(predicate, timeout: float, what: str):
    """Poll ``predicate`` until it returns something true, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def service_env(tmp_path: Path, smtp_port: int, **extra: str) -> dict[str, str]:
    """The environment of a worker or beat process: this machine's services, nothing inherited."""
    env = {name: value for name, value in os.environ.items()
           if name not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SECRET_KEY")
           and not name.startswith(("CAPITAL_", "MAIL_"))}
    env.update(DATABASE_URL=TEST_DATABASE_URL, REDIS_URL=WORKER_REDIS_URL, MAIL_SERVER="127.0.0.1",
               MAIL_PORT=str(smtp_port), CAPITAL_INSTANCE_PATH=str(tmp_path), SECRET_KEY=SECRET_KEY,
               CAPITAL_CHECK_SERVICES_AT_START="true", PYTHONUNBUFFERED="1", **extra)
    return env


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()  # warm shutdown: a task under way is finished first
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="module")
def inbox():
    with smtp_server() as handler:
        yield handler


@pytest.fixture(scope="module")
def broker_app(session_app, inbox, tmp_path_factory):
    """This process's app, handing tasks to the worker through redis (not eager)."""
    from capital import create_app

    client = redis.Redis.from_url(WORKER_REDIS_URL)
    client.flushdb()  # nothing left over from an interrupted run
    client.close()
    config = make_config(tmp_path_factory.mktemp("broker-app"), CELERY_BROKER_URL=WORKER_REDIS_URL,
                         REDIS_URL=WORKER_REDIS_URL, SECRET_KEY=SECRET_KEY,
                         MAIL_SERVER="127.0.0.1", MAIL_PORT=inbox.port)
    config.CELERY = {**config.CELERY, "broker_url": WORKER_REDIS_URL, "task_always_eager": False}
    app = create_app(config)
    yield app
    with app.app_context():
        _db.engine.dispose()
    app.extensions["celery"].close()
    session_app.extensions["celery"].set_default()


@pytest.fixture(scope="module")
def worker(broker_app, inbox, tmp_path_factory):
    """A real worker process; yields its node name once it answers a ping."""
    folder = tmp_path_factory.mktemp("worker")
    log = (folder / "worker.log").open("wb")
    name = f"capital-test-{os.getpid()}@localhost"
    process = subprocess.Popen(
        [CELERY, "-A", "celery_worker", "worker", "--pool=solo", "--concurrency=1", "-Q", "celery",
         "--without-gossip", "--without-mingle", "--loglevel=INFO", "-n", name],
        cwd=ROOT, env=service_env(folder, inbox.port), stdout=log, stderr=subprocess.STDOUT)
    try:
        control = broker_app.extensions["celery"].control

        def answers():
            if process.poll() is not None:
                pytest.fail(f"the worker exited with {process.returncode}:\n{(folder / 'worker.log').read_text()}")
            return any(name in reply for reply in control.ping(destination=[name], timeout=0.5))

        wait_for(answers, 30, "the worker to answer a ping")
        yield name
    finally:
        stop(process)
        log.close()


@pytest.fixture
def worker_app(app, broker_app, worker, inbox):
    """Clean tables, an empty inbox, the broker app's context; the worker idle at the end."""
    inbox.messages.clear()
    with broker_app.app_context():
        yield broker_app
        _db.session.remove()
        wait_until_idle(broker_app, worker)


def wait_until_idle(app, node: str) -> None:
    """No message waiting in the app's broker, none reserved or running in the worker (seen twice in a row)."""
    client = redis.Redis.from_url(app.extensions["celery"].conf.broker_url)
    inspect = app.extensions["celery"].control.inspect(destination=[node], timeout=2, limit=1)

    def idle():
        if client.llen("celery"):
            return False
        active, reserved = inspect.active() or {}, inspect.reserved() or {}
        return not any(active.values()) and not any(reserved.values())

    try:
        wait_for(lambda: idle() and idle(), 20, "the worker to be idle")
    finally:
        client.close()


def reload_mail(recipient: str) -> Mail | None:
    _db.session.rollback()  # a fresh transaction sees what the worker committed
    return _db.session.scalar(select(Mail).where(Mail.recipient == recipient))


def heartbeat() -> WorkerHeartbeat | None:
    _db.session.rollback()
    return _db.session.get(WorkerHeartbeat, "tick")


def test_an_invitation_is_delivered_by_the_worker(worker_app, inbox, make_user):
    secretariat = make_user(Role.SECRETARIAT)
    invite("New.Member@board.example", Role.BOARD, name="Ana", actor=secretariat, now=utcnow())
    commit()  # the task goes to redis only now, with the mail committed

    mail = wait_for(lambda: (m := reload_mail("new.member@board.example")) and m.state == MailState.SENT and m,
                    20, "the mail to be SENT")
    assert mail.attempts == 1 and mail.sent_dt is not None
    wait_for(lambda: inbox.messages, 5, "the SMTP server to receive the mail")
    [message] = inbox.messages
    assert message["To"] == "new.member@board.example"
    assert message["Subject"] == "You are invited to Capital"
    assert message["Message-ID"] == mail.message_id
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    path = LINK.search(text).group(1)
    assert path in html
    # The link the worker sent is one this app accepts: same secret key, same invitation.
    assert worker_app.test_client().get(path).status_code == 200


def test_the_tick_run_by_the_worker_is_reported_by_healthz(worker_app):
    worker_app.extensions["celery"].tasks[TICK].delay()
    wait_for(heartbeat, 20, "the worker to run the tick")

    response = worker_app.test_client().get("/healthz")
    assert response.status_code == 200
    report = response.get_json()
    assert report["broker"] == {"ok": True, "configured": True, "mode": "celery"}
    assert report["tick"]["last_run_dt"] is not None
    assert report["tick"]["runs"] >= 1
    assert report["tick"]["is_late"] is False


def test_celery_beat_drives_the_tick(worker_app, inbox, tmp_path):
    with (tmp_path / "beat.log").open("wb") as log:
        beat = subprocess.Popen(
            [CELERY, "-A", "celery_worker", "beat", "--loglevel=INFO", "-s", str(tmp_path / "beat-schedule")],
            cwd=ROOT, env=service_env(tmp_path, inbox.port, CAPITAL_TICK_SECONDS="1"),
            stdout=log, stderr=subprocess.STDOUT)
        try:
            first = wait_for(heartbeat, 25, "beat's first tick")
            first_runs, first_dt = first.runs, first.last_run_dt  # the row object reloads on each poll
            second = wait_for(lambda: (b := heartbeat()) and b.runs > first_runs and b, 10, "a second tick")
            assert second.last_run_dt > first_dt
        finally:
            stop(beat)
    report = worker_app.test_client().get("/healthz").get_json()
    assert report["tick"]["runs"] >= 2 and report["tick"]["is_late"] is False


def test_with_the_broker_down_the_request_succeeds_and_the_tick_delivers_later(worker_app, inbox, make_user,
                                                                               tmp_path):
    from capital import create_app

    closed = "redis://127.0.0.1:1/0"
    config = make_config(tmp_path, CELERY_BROKER_URL=closed, SECRET_KEY=SECRET_KEY,
                         MAIL_SERVER="127.0.0.1", MAIL_PORT=inbox.port)
    config.CELERY = {**config.CELERY, "broker_url": closed, "task_always_eager": False,
                     "broker_connection_timeout": 1, "broker_connection_retry": False,
                     "broker_connection_max_retries": 0, "task_publish_retry": False}
    down = create_app(config)
    try:
        secretariat = make_user(Role.SECRETARIAT)
        web = WebClient(down.test_client())
        web.login(secretariat.email)
        started = time.monotonic()
        response = web.post("/secretariat/invitations", {"email": "late@board.example", "name": "Lou",
                                                         "role": int(Role.BOARD), "city_id": 0, "locale": "en"})
        assert response.status_code == 302, response.get_data(as_text=True)
        assert time.monotonic() - started < 10  # the outage costs the person seconds at most
        follow = web.get(response.headers["Location"])
        assert "The invitation is on its way to late@board.example." in follow.get_data(as_text=True)
    finally:
        with down.app_context():
            _db.engine.dispose()
        down.extensions["celery"].close()
        worker_app.extensions["celery"].set_default()

    mail = reload_mail("late@board.example")
    assert (mail.state, mail.attempts) == (MailState.QUEUED, 0)  # recorded, waiting
    assert inbox.messages == []

    # The broker is back (this app's): the next tick finds the mail in the database.
    worker_app.extensions["celery"].tasks[TICK].delay()
    mail = wait_for(lambda: (m := reload_mail("late@board.example")) and m.state == MailState.SENT and m,
                    20, "the tick to deliver the waiting mail")
    assert mail.attempts == 1
    wait_for(lambda: inbox.messages, 5, "the SMTP server to receive the mail")
    assert [message["To"] for message in inbox.messages] == ["late@board.example"]
