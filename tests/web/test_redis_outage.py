"""Redis stopped under a running app: nobody is refused a sign-in or a vote, nothing answers 500, nothing is lost.

The app keeps its attempt counters, its page cache and its task queue in a redis-server of this test's own
(on a spare loopback port), with the production set-up's broker settings. The test stops it, then signs
in, asks for a password reset, subscribes, reviews and casts a ballot: each works, the mail waits in the
outbox for the tick, the ballot is stored, and throttling still holds, counted in the web process
(docs/operations.md, "When a service fails"). Then redis comes back and the counters are shared again.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest
import redis
from sqlalchemy import select

from capital.models import Ballot, Mail, Participation
from capital.models.types import utcnow
from tests.conftest import PASSWORD, WebClient, dispose, free_port, make_config
from tests.tasks.test_worker import stop
from tests.tasks.test_worker_mail import own_redis

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_app(app, tmp_path):
    """An app whose counters, page cache and broker are one redis-server, started for the test."""
    from capital import create_app

    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    config = make_config(tmp_path / "app", REDIS_URL=url, CELERY_BROKER_URL=url)
    config.CELERY = {**config.CELERY, "broker_url": url, "task_always_eager": False}
    with own_redis(port, tmp_path) as server:
        other = create_app(config)
        try:
            yield {"app": other, "server": server, "port": port, "url": url, "folder": tmp_path}
        finally:
            other.extensions["celery"].close()
            dispose(other)
    app.extensions["celery"].set_default()


def _browser(app, address="192.0.2.10"):
    browser = WebClient(app.test_client())
    browser.raw.environ_base["REMOTE_ADDR"] = address
    return browser


def test_with_redis_stopped_every_route_answers_and_nothing_is_lost(redis_app, make_vote, make_user, db, caplog):
    app = redis_app["app"]
    now = utcnow().replace(microsecond=0)
    vote = make_vote(terms=(now.date() - timedelta(days=400), date(2031, 12, 31)))
    vote.open(now - timedelta(hours=1))
    member = vote.members[0]
    reader = make_user()
    assert _browser(app).get("/").status_code == 200  # redis answers: the page is cached there
    stop(redis_app["server"])

    with caplog.at_level(logging.WARNING, logger="capital.throttle"):
        # Sign-in: the owner is let in, a guesser is still stopped (counted in this process).
        assert _browser(app).post("/account/login", {"email": reader.email, "password": PASSWORD}).status_code == 302
        guesser = _browser(app, "203.0.113.9")
        statuses = [guesser.post("/account/login", {"email": reader.email, "password": "guess"}).status_code
                    for _ in range(6)]
        assert statuses == [401] * 5 + [429]

        # A password reset: the mail is in the outbox, for the tick to hand out once the broker is back.
        assert _browser(app).post("/account/password-reset", {"email": reader.email}).status_code == 302
        assert db.session.scalar(select(Mail).where(Mail.recipient == reader.email, Mail.kind == "password_reset"))

        # A subscription: the confirmation waits in the outbox too.
        subscribed = _browser(app).post("/subscribe", {"subscribe-email": "reader@example.org",
                                                       "subscribe-locale": "en"})
        assert subscribed.status_code == 302
        assert db.session.scalar(select(Mail).where(Mail.recipient == "reader@example.org"))

        # The ballot: reviewed, cast, stored, and its receipt shown.
        board = _browser(app)
        board.login(member.email)
        form = {f"rank_{n.id}": str(rank) for rank, n in enumerate(vote.nominations, start=1)}
        review = board.post("/board/vote/review", form)
        assert review.status_code == 200 and "1. Palermo 2. Venlo 3. Lyon" in review.get_data(as_text=True)
        receipt = board.post("/board/vote/cast", form | {"cast": "1"})
        [ballot] = db.session.scalars(select(Ballot)).all()
        assert receipt.status_code == 200 and f">{ballot.receipt_code}<" in receipt.get_data(as_text=True)
        assert db.session.query(Participation).count() == 1

        assert _browser(app).get("/").status_code == 200  # public pages are rendered afresh
    outage_warnings = [r for r in caplog.records if "redis does not answer" in r.getMessage()]
    assert len(outage_warnings) == 1  # once per outage, not once per request

    # Redis is back (empty, as after a restart): the counters are shared again, in redis.
    with own_redis(redis_app["port"], redis_app["folder"]), redis.Redis.from_url(redis_app["url"]) as client:
        app.extensions["capital_throttle"].RETRY_SECONDS = 0  # try it at the next attempt, not seconds later
        with caplog.at_level(logging.WARNING, logger="capital.throttle"):
            assert guesser.post("/account/login", {"email": reader.email, "password": "guess"}).status_code == 401
        assert client.keys("capital:throttle:login:*")
        assert any("redis answers again" in r.getMessage() for r in caplog.records)
