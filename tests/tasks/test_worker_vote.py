"""The tally through a real Celery worker on redis: a worker SIGKILLed in the middle of the count
leaves nothing behind, and after a restart exactly one result exists, the same as a clean count.

The test has its own redis, SMTP port and worker (the ``outage`` fixture), so killing that worker
harms nothing else on the machine.
"""

from __future__ import annotations

import hashlib
import signal
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from capital.extensions import db as _db
from capital.models import AuditEntry, Ballot, Cycle, Mail, Result, VotingRound
from capital.services.voting import ballot_file, ballot_nominations, cast_ballot, nomination_names
from capital.voting import tally
from tests.tasks.test_worker import TICK, wait_for
from tests.tasks.test_worker_mail import outage, own_worker, run_tick  # noqa: F401  (fixtures)

pytestmark = pytest.mark.redis


def _waiting_to_store_the_count() -> bool:
    """A backend (the worker's) blocked on the lock of ``results`` while inserting the count."""
    with _db.engine.connect() as connection:
        return bool(connection.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO results%'")))


def test_a_worker_killed_during_the_tally_leaves_exactly_one_result_after_restart(outage, make_vote):
    app, process = outage["app"], outage["process"]
    vote = make_vote(members=5)
    vote.open()
    cycle = _db.session.get(Cycle, vote.cycle_id)
    ids = vote.ids()
    rankings = [[[ids["Venlo"]], [ids["Lyon"]]], [[ids["Lyon"]], [ids["Venlo"]]], [[ids["Venlo"]]],
                [[ids["Palermo"]], [ids["Lyon"], ids["Venlo"]]]]
    cast = {cast_ballot(cycle, member, ranking, now=vote.OPENS + timedelta(days=1)).code: ranking
            for member, ranking in zip(vote.members, rankings, strict=False)}
    _db.session.commit()

    # Hold the results table so the worker's count stops right where it would be stored: after
    # the round was closed and its ballots shuffled and counted, in the same transaction.
    blocker = _db.engine.connect()
    blocker.begin()
    blocker.execute(text("LOCK TABLE results IN EXCLUSIVE MODE"))
    app.extensions["celery"].tasks[TICK].delay(vote.CLOSES.isoformat())
    wait_for(_waiting_to_store_the_count, 30, "the worker to be storing the count")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    blocker.rollback()
    blocker.close()

    # The killed transaction is gone whole: the round is open, its ballots as cast, no result, no mail.
    def killed_transaction_gone() -> bool:
        _db.session.rollback()
        return _db.session.scalar(select(func.count()).select_from(text("pg_stat_activity")).where(
            text("datname = current_database() AND query LIKE 'INSERT INTO results%'"))) == 0

    wait_for(killed_transaction_gone, 30, "PostgreSQL to end the killed worker's transaction")
    assert _db.session.scalar(select(func.count(Result.id))) == 0
    assert _db.session.get(Cycle, vote.cycle_id).phase.name == "VOTING_OPEN"
    assert _db.session.scalar(select(VotingRound.closed_dt)) is None
    assert _db.session.scalar(select(func.count(Mail.id)).where(Mail.kind == "vote_result")) == 0

    with own_worker(app, outage["folder"] / "second", outage["broker"], outage["smtp_port"]) as (second, _):
        run_tick(app, second, vote.CLOSES)
        run_tick(app, second, vote.CLOSES + timedelta(minutes=1))  # and a tick once more: nothing twice

    _db.session.rollback()
    [result] = _db.session.scalars(select(Result)).all()
    voting_round = _db.session.get(VotingRound, result.round_id)
    cycle = _db.session.get(Cycle, vote.cycle_id)
    assert cycle.phase.name == "TALLIED" and voting_round.closed_dt == vote.CLOSES
    # Each ballot once, as cast: the dead worker's shuffle left no copy behind.
    stored = {b.receipt_code: b.ranking for b in _db.session.scalars(select(Ballot))}
    assert stored == cast
    # The same as a clean count: the ballot file from those ballots, counted by the library.
    names = nomination_names(ballot_nominations(voting_round))
    expected_file = ballot_file(cycle, voting_round, names)
    order = [names[n] for n in voting_round.tie_break_order]
    outcome = tally(expected_file, method=cycle.method, candidates=order, tie_break=order)
    assert result.ballot_file == expected_file
    assert result.checksum == hashlib.sha256(expected_file.encode()).hexdigest()
    assert {k: v for k, v in result.tally.items() if k != "candidate_ids"} == outcome.to_dict()
    assert result.winner_nomination_id == ids["Venlo"] == ids[outcome.winner]
    assert (result.ballots_cast, result.eligible_voters, result.tallied_dt) == (4, 5, vote.CLOSES)
    assert _db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "voting.tallied")) == 1
    # The result mail once to each of the roll and the secretariat.
    recipients = _db.session.scalars(select(Mail.recipient).where(Mail.kind == "vote_result")).all()
    assert sorted(recipients) == sorted({m.email for m in vote.members} | {vote.secretariat.email})
