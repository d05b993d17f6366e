"""Redis flushed before a deadline: the vote reminders and the tally still happen, each once.

Everything queued in redis is lost by a FLUSHALL: a tick waiting for a worker, the writers of
the group mail a tick recorded, the senders. The database is the source of truth: the next tick
finds every due thing there (the reminder round, a group mail not all written, the mail in the
outbox, the deadline of the vote) and does it, and nothing twice. The test starts its own redis-server, SMTP server (aiosmtpd) and Celery
worker on spare loopback ports, so flushing that redis harms nothing else on the machine.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pytest
import redis
from sqlalchemy import func, select

from capital.domain.phase import Phase
from capital.extensions import db as _db
from capital.models import Cycle, Mail, MailState, Result, VotingRound, WorkerHeartbeat
from capital.services.dispatch import commit
from capital.services.ticks import run_tick as tick_here
from capital.services.voting import cast_ballot
from tests.conftest import Inbox, free_port
from tests.services.test_notices import catalog
from tests.tasks.test_worker import TICK, wait_for, wait_until_idle
from tests.tasks.test_worker_mail import _all_sent, app_on, own_redis, own_smtp, own_worker, run_tick

pytestmark = pytest.mark.redis

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


def _runs() -> int:
    """How many ticks have run (none before the first)."""
    _db.session.rollback()
    beat = _db.session.get(WorkerHeartbeat, "tick")
    return beat.runs if beat else 0


def _delivered(inbox: Inbox, subject: str) -> Counter:
    """How many messages with ``subject`` each address received."""
    return Counter(message["To"] for message in inbox.messages if message["Subject"] == subject)


def _queued(client: redis.Redis) -> list[str]:
    """The names of the tasks waiting in redis for a worker."""
    return [json.loads(message)["headers"]["task"] for message in client.lrange("celery", 0, -1)]


def _mails(kind: str) -> dict[str, MailState]:
    """The outbox's mails of ``kind`` by recipient and occasion ("person1@capital.example:r1:3d")."""
    _db.session.rollback()
    return {m.dedupe_key.split(":", 2)[2]: m.state for m in _db.session.scalars(select(Mail).where(Mail.kind == kind))}


def test_redis_flushed_before_each_deadline_the_reminders_and_the_tally_still_happen(app, make_vote, tmp_path):
    redis_port, smtp_port = free_port(), free_port()
    broker = f"redis://127.0.0.1:{redis_port}/0"
    inbox = Inbox()
    year = 2031
    voting_open = catalog("en", "Voting is open: Capital of Living Together %(year)s", year=year)
    reminder = catalog("en", "Reminder: you have not voted yet for the Capital of Living Together %(year)s",
                       year=year)
    result_subject = catalog("en", "Result of the board vote: Capital of Living Together %(year)s", year=year)
    try:
        with own_redis(redis_port, tmp_path), own_smtp(smtp_port, inbox), \
                app_on(broker, tmp_path / "app", smtp_port) as other, redis.Redis(port=redis_port) as client:
            tasks = other.extensions["celery"].tasks

            def enqueue_then_flush(at) -> None:
                """The tick for ``at`` waits in redis (no worker takes it), then redis is flushed."""
                tasks[TICK].delay(at.isoformat())
                assert TICK in _queued(client)
                client.flushall()
                assert client.dbsize() == 0

            vote = make_vote(members=5)
            vote.open()  # the voting-open mail is recorded; its writer goes to redis at the next commit()
            cycle = _db.session.get(Cycle, vote.cycle_id)
            venlo = vote.ids()["Venlo"]
            for member in vote.members[:2]:
                cast_ballot(cycle, member, [[venlo]], now=vote.OPENS + DAY)
            commit()  # the writer of the voting-open mail goes to redis
            roll = [member.email for member in vote.members]
            three_days, one_day = vote.CLOSES - 3 * DAY, vote.CLOSES - DAY

            # 1. The tick of the first reminder day is flushed away before any worker takes it,
            #    with the writer of the voting-open mail.
            assert _queued(client) == ["capital.tasks.mail.write"]
            enqueue_then_flush(three_days)
            with own_worker(other, tmp_path / "first", broker, smtp_port) as (node, _):
                wait_until_idle(other, node)
                assert _runs() == 0  # the lost tick never ran: nothing written, nothing sent
                assert _mails("voting_open") == _mails("vote_reminder") == {} and inbox.messages == []
                run_tick(other, node, three_days + MINUTE)  # the next beat: both written, then sent
                wait_for(lambda: len(_mails("voting_open")) == 5 and len(_mails("vote_reminder")) == 3
                         and _all_sent(), 30, "the voting-open mail and the reminders")
                run_tick(other, node, three_days + 2 * MINUTE)  # and one more: nothing twice
                wait_until_idle(other, node)
            assert _all_sent()
            assert _delivered(inbox, voting_open) == Counter(roll)
            assert _delivered(inbox, reminder) == Counter(roll[2:])  # those who have not voted
            assert len(inbox.messages) == 5 + 3

            # 2. The tick of the last reminder day ran and recorded its reminders, but the writer it
            #    handed to redis is flushed away before a worker takes it.
            cast_ballot(cycle, vote.members[2], [[venlo]], now=three_days + DAY - timedelta(hours=1))
            _db.session.commit()
            inbox.messages.clear()
            tick_here(one_day)  # run here, as the worker would have run it
            commit()  # the reminders are recorded; their writer goes to redis
            assert _mails("vote_reminder") == {f"{email}:r1:3d": MailState.SENT for email in roll[2:]}
            assert set(_queued(client)) == {"capital.tasks.mail.write"}
            client.flushall()
            with own_worker(other, tmp_path / "second", broker, smtp_port) as (node, _):
                wait_until_idle(other, node)
                assert inbox.messages == [] and len(_mails("vote_reminder")) == 3  # the lost writer wrote nothing
                run_tick(other, node, one_day + MINUTE)  # the next beat gives the mailing a writer again
                wait_for(lambda: len(_mails("vote_reminder")) == 5 and _all_sent(), 30, "the last reminders")
                wait_until_idle(other, node)
            assert _delivered(inbox, reminder) == Counter(roll[3:])
            assert len(inbox.messages) == 2
            assert _mails("vote_reminder") == {**{f"{email}:r1:3d": MailState.SENT for email in roll[2:]},
                                               **{f"{email}:r1:1d": MailState.SENT for email in roll[3:]}}

            # 3. The tick of the voting deadline is flushed away: the round stays open until the next beat.
            inbox.messages.clear()
            enqueue_then_flush(vote.CLOSES)
            runs = _runs()
            with own_worker(other, tmp_path / "third", broker, smtp_port) as (node, _):
                wait_until_idle(other, node)
                assert _runs() == runs
                assert _db.session.get(Cycle, vote.cycle_id).phase == Phase.VOTING_OPEN
                assert _db.session.scalar(select(func.count(Result.id))) == 0
                run_tick(other, node, vote.CLOSES + MINUTE)  # closes the round and counts it
                run_tick(other, node, vote.CLOSES + 2 * MINUTE)  # the count is there: tallied
                wait_for(lambda: len(_mails("vote_result")) == 6 and _all_sent(), 30, "the result mail")
                wait_until_idle(other, node)
            _db.session.rollback()
            assert _db.session.get(Cycle, vote.cycle_id).phase == Phase.TALLIED
            [result] = _db.session.scalars(select(Result)).all()
            assert (result.ballots_cast, result.eligible_voters) == (3, 5)
            assert result.winner_nomination_id == venlo and result.is_quorum_met
            assert _db.session.get(VotingRound, result.round_id).closed_dt is not None
            assert _delivered(inbox, result_subject) == Counter([*roll, vote.secretariat.email])
            assert len(inbox.messages) == 6
    finally:
        app.extensions["celery"].set_default()
