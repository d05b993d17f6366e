"""The timeline's mail through a real Celery worker on redis and a real SMTP server (aiosmtpd).

The tick is given the moment to run for (``at``), so months of a cycle pass in seconds. The
outage tests start their own redis-server and SMTP server on spare loopback ports, so that
stopping them harms nothing else on the machine.
"""

from __future__ import annotations

import signal
import subprocess
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from capital.config import ROOT
from capital.domain.membership import CityStatus
from capital.domain.nominations import NominationState
from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.extensions import db as _db
from capital.models import Cycle, Mail, MailState, Nomination
from capital.models.types import utcnow
from capital.services import nominations
from capital.services.dispatch import commit
from capital.services.mail import SENDING_LEASE, backoff, queue_mail
from tests.conftest import Inbox, free_port, make_config, pdf_bytes
from tests.services.test_notices import CLOSES, DAY, OPENS, TIMELINE, YEAR, catalog
from tests.tasks.test_worker import (  # noqa: F401  (fixtures)
    CELERY, SECRET_KEY, TICK, broker_app, inbox, service_env, stop, wait_for, wait_until_idle, worker, worker_app,
)

def run_tick(app, node: str, at) -> None:
    app.extensions["celery"].tasks[TICK].delay(at.isoformat())
    time.sleep(0.3)  # let the worker take the tick before asking whether it is idle
    wait_until_idle(app, node)


def test_a_cycle_runs_its_nomination_timeline_by_ticks_alone(worker_app, worker, inbox, make_city, make_user):
    berlin = make_city("Berlin", timezone="Europe/Berlin")
    madrid = make_city("Madrid", country="ES", timezone="Europe/Madrid")
    beijing = make_city("北京", country="CN", timezone="Asia/Shanghai")
    make_city("Applicant", status=CityStatus.APPLICANT)
    make_user(Role.REPRESENTATIVE, city=berlin, locale="de", email="anna@berlin.example")
    make_user(Role.REPRESENTATIVE, city=madrid, locale="es", email="lucia@madrid.example")
    make_user(Role.REPRESENTATIVE, city=beijing, locale="zh", email="wei@beijing.example")
    cycle = Cycle(year=YEAR, celebration_date=TIMELINE.celebration_date, phase=Phase.DRAFT,
                  phase_changed_dt=OPENS - 30 * DAY, **TIMELINE.deadlines())
    _db.session.add(cycle)
    _db.session.commit()
    reps = {"anna@berlin.example": "de", "lucia@madrid.example": "es", "wei@beijing.example": "zh"}
    # A city's contact address is written to in its first representative's language.
    contacts = {"contact1@city.example": "de", "contact2@city.example": "es", "contact3@city.example": "zh"}

    def received(subject_id: str) -> dict[str, list]:
        found: dict[str, list] = {}
        for message in inbox.messages:
            for locale in ("en", "de", "es", "zh"):
                if message["Subject"] == catalog(locale, subject_id, year=YEAR):
                    found.setdefault(message["To"], []).append(locale)
        return found

    run_tick(worker_app, worker, OPENS - timedelta(seconds=1))
    assert inbox.messages == []
    run_tick(worker_app, worker, OPENS)
    wait_for(lambda: len(inbox.messages) >= 6, 20, "the call for nominations")
    calls = received("Call for nominations: Capital of Living Together %(year)s")
    assert calls == {email: [locale] for email, locale in {**reps, **contacts}.items()}
    chinese = next(m for m in inbox.messages if m["To"] == "wei@beijing.example")
    assert "2031年1月16日 20:00，上海时间（CST, UTC+08:00）" in chinese.get_body(("plain",)).get_content()  # 12:00 UTC in Beijing

    # A month passes; a tick re-delivered by the broker at the same moment changes nothing.
    run_tick(worker_app, worker, CLOSES - 14 * DAY)
    run_tick(worker_app, worker, CLOSES - 14 * DAY)
    run_tick(worker_app, worker, CLOSES - 3 * DAY)
    run_tick(worker_app, worker, CLOSES - DAY)
    run_tick(worker_app, worker, CLOSES)
    run_tick(worker_app, worker, CLOSES + DAY)
    wait_for(lambda: len(inbox.messages) >= 24, 20, "three rounds of reminders")
    time.sleep(0.5)
    reminders = received("Reminder: nominations for the Capital of Living Together %(year)s close soon")
    assert reminders == {email: [locale] * 3 for email, locale in {**reps, **contacts}.items()}
    assert len(inbox.messages) == 24  # 6 calls + 3 × 6 reminders: nothing else, nothing twice
    _db.session.rollback()
    assert _db.session.get(Cycle, cycle.id).phase == Phase.NOMINATIONS_CLOSED
    assert _db.session.scalar(select(func.count(Mail.id)).where(Mail.state != MailState.SENT)) == 0


# --- outages: a redis and an SMTP server of this test's own ---------------------------------------------

@contextmanager
def own_redis(port: int, folder: Path):
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(folder)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    try:
        wait_for(lambda: _pings(client), 10, "redis-server to start")
        yield process
    finally:
        client.close()
        stop(process)


def _pings(client) -> bool:
    try:
        return client.ping()
    except redis.ConnectionError:
        return False


@contextmanager
def own_smtp(port: int, inbox: Inbox):
    from aiosmtpd.controller import Controller

    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield
    finally:
        controller.stop()


@contextmanager
def own_worker(app, folder: Path, broker: str, smtp_port: int, **settings: str):
    """A worker process on ``broker`` (``settings``: more of its environment); yields its name and process."""
    name = f"capital-outage-{free_port()}@localhost"
    folder.mkdir(parents=True, exist_ok=True)
    env = {**service_env(folder, smtp_port, **settings), "REDIS_URL": broker}
    with (folder / "worker.log").open("wb") as log:
        process = subprocess.Popen(
            [CELERY, "-A", "celery_worker", "worker", "--pool=solo", "--concurrency=1", "--without-gossip",
             "--without-mingle", "--loglevel=INFO", "-n", name],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            control = app.extensions["celery"].control

            def answers():
                assert process.poll() is None, (folder / "worker.log").read_text()
                return any(name in reply for reply in control.ping(destination=[name], timeout=0.5))

            wait_for(answers, 30, "the worker to answer a ping")
            yield name, process
        finally:
            stop(process)


@contextmanager
def app_on(broker: str, folder: Path, smtp_port: int):
    """An app handing tasks to ``broker``, giving up at once when it is unreachable."""
    from capital import create_app

    config = make_config(folder, CELERY_BROKER_URL=broker, REDIS_URL=broker,
                         SECRET_KEY=SECRET_KEY, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_port)
    config.CELERY = {**config.CELERY, "broker_url": broker, "task_always_eager": False,
                     "broker_connection_timeout": 1, "broker_connection_retry": False,
                     "broker_connection_max_retries": 0, "task_publish_retry": False}
    other = create_app(config)
    try:
        with other.app_context():
            yield other
            _db.session.remove()
    finally:
        with other.app_context():
            _db.engine.dispose()
        other.extensions["celery"].close()


@pytest.fixture
def outage(app, tmp_path):
    """This test's own redis, SMTP port and worker, with an app handing tasks to them."""
    redis_port, smtp_port = free_port(), free_port()
    broker = f"redis://127.0.0.1:{redis_port}/0"
    with own_redis(redis_port, tmp_path) as server, app_on(broker, tmp_path / "app", smtp_port) as other, \
            own_worker(other, tmp_path, broker, smtp_port) as (node, process):
        yield {"app": other, "node": node, "process": process, "redis": server, "redis_port": redis_port,
               "smtp_port": smtp_port, "folder": tmp_path, "broker": broker}
    app.extensions["celery"].set_default()


def test_mail_server_down_then_up_every_mail_is_delivered_exactly_once(outage, make_city, make_user):
    app, node = outage["app"], outage["node"]
    cycle = Cycle(year=YEAR, celebration_date=TIMELINE.celebration_date, phase=Phase.DRAFT,
                  phase_changed_dt=OPENS - 30 * DAY, **TIMELINE.deadlines())
    cities = [make_city(f"City {n}") for n in range(4)]
    _db.session.add(cycle)
    _db.session.commit()

    run_tick(app, node, OPENS)  # the call for nominations: 4 mails, and no mail server yet
    _db.session.rollback()
    mails = _db.session.scalars(select(Mail)).all()
    assert len(mails) == len(cities) and {(m.state, m.attempts) for m in mails} == {(MailState.QUEUED, 1)}

    inbox = Inbox()
    with own_smtp(outage["smtp_port"], inbox):
        run_tick(app, node, OPENS + backoff(1) - timedelta(seconds=1))  # backing off: nothing tried
        assert inbox.messages == []
        run_tick(app, node, OPENS + backoff(1))
        wait_for(lambda: len(inbox.messages) >= 4, 20, "the mail once the server is back")
        run_tick(app, node, OPENS + 2 * DAY)
        time.sleep(0.5)
    assert sorted(m["To"] for m in inbox.messages) == sorted(city.contact_email for city in cities)
    _db.session.rollback()
    assert {(m.state, m.attempts) for m in _db.session.scalars(select(Mail))} == {(MailState.SENT, 2)}


def test_redis_stopped_while_a_city_submits_the_receipt_arrives_once_it_is_back(outage, make_city, make_user,
                                                                                 make_cycle):
    app, node = outage["app"], outage["node"]
    cycle = make_cycle()
    city = make_city("Palermo", country="IT", timezone="Europe/Rome")
    rep = make_user(Role.REPRESENTATIVE, city=city, locale="fr", email="rep@palermo.example")
    now = utcnow()
    nomination = nominations.start_nomination(cycle, city, city, actor=rep, now=now)
    from capital.domain.dossier import BudgetRange, Theme

    nominations.save_dossier(nomination, nominations.DossierInput(
        title="Palermo, crossroads of the Mediterranean", texts={"en": ("A summary.", "A programme.")},
        themes={Theme.INCLUSIVE}, expected_participants=5000, budget_range=BudgetRange.FROM_10K_TO_50K,
    ), actor=rep, now=now)
    nominations.attach_file(nomination, "letter", "lettera.pdf", pdf_bytes(), actor=rep, now=now)
    _db.session.commit()

    inbox = Inbox()
    with own_smtp(outage["smtp_port"], inbox):
        stop(outage["redis"])  # redis goes away
        started = time.monotonic()
        nominations.submit_nomination(nomination, actor=rep, now=utcnow())
        commit()  # the task cannot be handed over: logged, and the submission stands
        assert time.monotonic() - started < 10
        _db.session.rollback()
        assert _db.session.get(Nomination, nomination.id).state == NominationState.SUBMITTED
        receipts = _db.session.scalars(select(Mail).where(Mail.kind == "nomination_received")).all()
        assert {m.recipient for m in receipts} == {"rep@palermo.example", city.contact_email}
        assert {m.state for m in receipts} == {MailState.QUEUED}
        assert inbox.messages == []

        with own_redis(outage["redis_port"], outage["folder"]):  # back, on the same port
            wait_for(lambda: _answers(app, node), 40, "the worker to reconnect to redis")
            app.extensions["celery"].tasks[TICK].delay()
            wait_for(lambda: len(inbox.messages) >= 2, 30, "the receipts once redis is back")
            time.sleep(0.5)
            wait_until_idle(app, node)
    assert sorted(m["To"] for m in inbox.messages) == sorted(["rep@palermo.example", city.contact_email])
    french = next(m for m in inbox.messages if m["To"] == "rep@palermo.example")
    assert french["Content-Language"] == "fr"


def _answers(app, node: str) -> bool:
    try:
        return any(node in reply for reply in app.extensions["celery"].control.ping(destination=[node], timeout=0.5))
    except Exception:  # noqa: BLE001  (redis not reachable yet from this process either)
        return False


def test_a_worker_killed_mid_batch_sends_at_most_the_one_unconfirmed_mail_twice(outage):
    app, node = outage["app"], outage["node"]
    now = utcnow()
    with app.test_request_context():
        for n in range(20):
            queue_mail("password_reset", recipient=f"person{n}@city.example", locale="en", now=now, deliver_now=False,
                       subject="Reset your Capital password",
                       context={"name": "Ana", "link": "http://127.0.0.1:5000/x", "minutes": 60})
        _db.session.commit()

    inbox = Inbox()
    inbox.data_delay = 0.2  # a slow server: the batch is still going when the worker dies
    with own_smtp(outage["smtp_port"], inbox):
        app.extensions["celery"].tasks[TICK].delay(now.isoformat())
        wait_for(lambda: len(inbox.messages) >= 5, 30, "the batch to be under way")
        outage["process"].send_signal(signal.SIGKILL)
        outage["process"].wait(timeout=10)
        _db.session.rollback()
        left = _db.session.scalar(select(func.count(Mail.id)).where(Mail.state == MailState.SENDING))
        assert 0 < left < 20  # part of the batch is marked sent, the rest is still held by the dead worker

        with own_worker(app, outage["folder"] / "second", outage["broker"], outage["smtp_port"]) as (second, _):
            run_tick(app, second, now + SENDING_LEASE - timedelta(seconds=1))  # the dead worker's lease holds
            _db.session.rollback()
            assert _db.session.scalar(select(func.count(Mail.id)).where(Mail.state == MailState.SENDING)) == left
            # The lease has run out (it was taken a moment after ``now``).
            run_tick(app, second, now + SENDING_LEASE + timedelta(minutes=1))
            wait_for(_all_sent, 30, "the rest of the batch")
            wait_until_idle(app, second)
    recipients = [message["To"] for message in inbox.messages]
    assert set(recipients) == {f"person{n}@city.example" for n in range(20)}
    assert len(recipients) - len(set(recipients)) <= 1  # at most the mail that was in flight


def _all_sent() -> bool:
    _db.session.rollback()
    return _db.session.scalar(select(func.count(Mail.id)).where(Mail.state != MailState.SENT)) == 0
