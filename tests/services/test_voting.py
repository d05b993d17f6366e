"""The board vote on PostgreSQL: the roll, casting under load, secrecy, closing, the count, rounds."""

from __future__ import annotations

import hashlib
import logging
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from capital.domain.messages import RuleViolation
from capital.domain.phase import Phase
from capital.models import AuditEntry, Ballot, Cycle, Mail, Participation, Recusal, Result, User
from capital.services import voting
from capital.services.cycles import change_phase
from capital.services.mail import mail_bodies
from tests.conftest import write_group_mail

SECOND = timedelta(seconds=1)


def run_parallel(app, count, action):
    """Run ``action(i)`` in ``count`` threads at once, each with its own session; commit or roll back."""
    start = threading.Barrier(count)
    outcomes, errors = [], []

    def worker(i):
        try:
            with app.app_context():
                from capital.extensions import db

                start.wait(30)
                try:
                    outcomes.append(action(i))
                    db.session.commit()
                except RuleViolation as refused:
                    db.session.rollback()
                    outcomes.append(refused.reason.code)
                finally:
                    db.session.remove()
        except Exception as error:  # reported below: exceptions in threads would only warn
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    return outcomes


def cast(db, vote, member, ranking, now=None, **kwargs):
    cycle = db.session.get(Cycle, vote.cycle_id)
    return voting.cast_ballot(cycle, member, ranking, now=now or vote.OPENS + timedelta(hours=1), **kwargs)


def test_opening_voting_freezes_the_roll_and_draws_a_published_tie_break(db, make_vote, make_city, make_user):
    from capital.domain.ballots import tie_break_order
    from capital.domain.roles import Role

    vote = make_vote()
    conflicted = vote.members[0]
    conflicted.city_id = vote.cities["Venlo"].id
    db.session.commit()
    voting_round = vote.open()
    assert voting_round.number == 1 and voting_round.closes_dt == vote.CLOSES
    assert sorted(voting_round.roll) == sorted(m.id for m in vote.members[1:])
    assert voting_round.tie_break_order == tie_break_order(voting_round.tie_break_seed, [n.id for n in vote.nominations])
    [recusal] = db.session.scalars(select(Recusal)).all()
    assert recusal.user_id == conflicted.id and recusal.is_automatic
    [opened] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "voting.round_opened")).all()
    assert opened.data["tie_break_seed"] == voting_round.tie_break_seed and opened.data["roll"] == 6
    # A member who joins the board later does not enter the frozen roll.
    make_user(Role.BOARD)
    assert len(db.session.get(type(voting_round), voting_round.id).roll) == 6
    with pytest.raises(RuleViolation) as refused:
        cast(db, vote, conflicted, ((vote.nominations[0].id,),))
    assert refused.value.reason.code == "ballot.not_on_roll"


def test_a_member_declares_a_conflict_before_casting_and_leaves_the_roll(db, make_vote):
    vote = make_vote()
    voting_round = vote.open()
    first, second = vote.members[:2]
    voting.declare_conflict(vote.cycle, first, "My sister runs the Venlo programme.", now=vote.OPENS + SECOND)
    db.session.commit()
    assert first.id not in db.session.get(type(voting_round), voting_round.id).roll
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "voting.recused")).all()
    assert entry.actor_id == first.id and entry.data["reason"] == "My sister runs the Venlo programme."
    cast(db, vote, second, ((vote.nominations[0].id,),))
    db.session.commit()
    with pytest.raises(RuleViolation) as refused:
        voting.declare_conflict(vote.cycle, second, "Too late", now=vote.OPENS + 2 * SECOND)
    assert refused.value.reason.code == "conflict.after_casting"
    with pytest.raises(RuleViolation) as refused:
        voting.declare_conflict(vote.cycle, vote.members[2], "  ", now=vote.OPENS)
    assert refused.value.reason.code == "conflict.reason_missing"


def test_twenty_parallel_casts_by_one_voter_store_one_ballot(app, db, make_vote):
    vote = make_vote()
    vote.open()
    member, member_id = vote.members[0], vote.members[0].id
    ranking = ((vote.nominations[1].id,), (vote.nominations[0].id,))
    outcomes = run_parallel(app, 20, lambda i: cast(db, vote, db.session.get(User, member_id), ranking))
    receipts = [o for o in outcomes if isinstance(o, voting.Receipt)]
    assert len(receipts) == 1 and outcomes.count("ballot.already_voted") == 19
    assert db.session.scalar(select(Participation.id).where(Participation.user_id == member.id)) is not None
    assert [b.receipt_code for b in db.session.scalars(select(Ballot))] == [receipts[0].code]


def test_twenty_parallel_replacements_with_one_secret_replace_once(app, db, make_vote):
    vote = make_vote(allows_ballot_replacement=True)
    vote.open()
    member = vote.members[0]
    first = cast(db, vote, member, ((vote.nominations[0].id,),))
    member_id, choice = member.id, vote.nominations[2].id
    db.session.commit()
    assert first.replacement_secret
    outcomes = run_parallel(app, 20, lambda i: cast(
        db, vote, db.session.get(User, member_id), ((choice,),), replacement_secret=first.replacement_secret))
    receipts = [o for o in outcomes if isinstance(o, voting.Receipt)]
    assert len(receipts) == 1 and outcomes.count("ballot.bad_replacement_secret") == 19
    [ballot] = db.session.scalars(select(Ballot)).all()
    assert ballot.receipt_code == receipts[0].code and ballot.ranking == [[vote.nominations[2].id]]
    assert db.session.scalar(select(Participation.id).where(Participation.user_id == member.id)) is not None


def test_a_replacement_secret_is_needed_and_works_once(db, make_vote):
    vote = make_vote(allows_ballot_replacement=True)
    vote.open()
    member, other = vote.members[:2]
    receipt = cast(db, vote, member, ((vote.nominations[0].id,),))
    db.session.commit()
    with pytest.raises(RuleViolation) as refused:
        cast(db, vote, other, ((vote.nominations[1].id,),), replacement_secret=receipt.replacement_secret)
    assert refused.value.reason.code == "ballot.bad_replacement_secret"  # other has not voted
    db.session.rollback()
    with pytest.raises(RuleViolation) as refused:
        cast(db, vote, member, ((vote.nominations[1].id,),), replacement_secret="AAAA-BBBB-CCCC-DDDD-EEEE-FFFF")
    assert refused.value.reason.code == "ballot.bad_replacement_secret"


def test_sixty_voters_casting_at_once_store_sixty_ballots(app, db, make_vote):
    vote = make_vote(members=60)
    vote.open()
    ids = [m.id for m in vote.members]
    ranking = ((vote.nominations[0].id, vote.nominations[2].id), (vote.nominations[1].id,))
    outcomes = run_parallel(app, 60, lambda i: cast(db, vote, db.session.get(User, ids[i]), ranking))
    assert all(isinstance(o, voting.Receipt) for o in outcomes) and len(outcomes) == 60
    assert db.session.query(Ballot).count() == 60 == db.session.query(Participation).count()


def test_a_cast_one_second_after_the_close_is_refused(db, make_vote):
    vote = make_vote()
    vote.open()
    with pytest.raises(RuleViolation) as refused:
        cast(db, vote, vote.members[0], ((vote.nominations[0].id,),), now=vote.CLOSES + SECOND)
    assert refused.value.reason.code == "ballot.closed"
    cast(db, vote, vote.members[0], ((vote.nominations[0].id,),), now=vote.CLOSES - SECOND)
    db.session.commit()
    vote.close()
    with pytest.raises(RuleViolation) as refused:
        cast(db, vote, vote.members[1], ((vote.nominations[0].id,),), now=vote.CLOSES - SECOND)
    assert refused.value.reason.code == "ballot.closed"


def test_a_ballot_for_a_nomination_not_on_it_is_refused(db, make_vote):
    vote = make_vote()
    vote.open()
    with pytest.raises(RuleViolation) as refused:
        cast(db, vote, vote.members[0], ((999999,),))
    assert refused.value.reason.code == "ballot.unknown_nomination"


def _cast_all(db, vote, rankings):
    receipts = []
    for member, ranking in zip(vote.members, rankings, strict=False):
        receipts.append(cast(db, vote, member, ranking))
        db.session.commit()
    return receipts


def test_in_secret_mode_nothing_stored_joins_a_voter_to_a_ballot(db, make_vote, caplog):
    vote = make_vote(members=7)
    vote.open()
    p, v, ly = (n.id for n in vote.nominations)
    caplog.set_level(logging.DEBUG)
    receipts = _cast_all(db, vote, [((p,), (v,)), ((v,),), ((ly,), (p, v)), ((p,),), ((v,), (ly,))])
    # Before the close the physical order and the transaction ids still follow the casting order...
    ballot_xmins = {int(x) for x in db.session.execute(text("SELECT xmin::text FROM ballots")).scalars()}
    participation_xmins = {int(x) for x in db.session.execute(text("SELECT xmin::text FROM participations")).scalars()}
    # (each ballot was written by its voter's transaction, the participation by a savepoint in it)
    assert len(ballot_xmins) == len(participation_xmins) == 5
    vote.close()
    assert write_group_mail(vote.CLOSES) == 7 + 8  # voting open to the roll; the result to it and the secretariat
    # ...after it, every ballot was rewritten at once, in a random order.
    [rewritten] = {int(x) for x in db.session.execute(text("SELECT xmin::text FROM ballots")).scalars()}
    assert rewritten not in participation_xmins | ballot_xmins
    codes = {r.code for r in receipts}
    assert {b.receipt_code for b in db.session.scalars(select(Ballot))} == codes
    assert db.session.query(Ballot).count() == db.session.query(Participation).count() == len(codes) == 5
    columns = {c.name for c in Ballot.__table__.columns}
    assert columns == {"id", "round_id", "receipt_code", "ranking", "voter_id", "replacement_hash"}
    assert all(b.voter_id is None and b.replacement_hash is None for b in db.session.scalars(select(Ballot)))
    # Nothing else the app wrote holds a receipt code, a ballot id or a ranking beside a person.
    ballot_ids = {b.id for b in db.session.scalars(select(Ballot))}
    written = [repr((e.action, e.object_id, e.data)) for e in db.session.scalars(select(AuditEntry))]
    written += [repr((m.recipient, m.subject, *mail_bodies(m))) for m in db.session.scalars(select(Mail))]
    written += [record.getMessage() for record in caplog.records]
    for secret in codes | ballot_ids:
        assert not any(secret in line for line in written)
    voted = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "voting.voted")).all()
    assert len(voted) == 5 and all(e.object_type == "Participation" for e in voted)
    assert all(e.data == {"round": 1} for e in voted)


def test_after_the_close_ballots_are_stored_in_a_random_order(db, make_vote):
    vote = make_vote(hosts=("Palermo", "Venlo", "Lyon", "Paris", "Bamako"), members=30)
    vote.open()
    ids = [n.id for n in vote.nominations]
    _cast_all(db, vote, [((ids[i % 5],),) for i in range(30)])
    cast_order = [tuple(b.ranking[0]) for b in db.session.scalars(select(Ballot).order_by(text("ctid")))]
    vote.close()
    stored_order = [tuple(b.ranking[0]) for b in db.session.scalars(select(Ballot).order_by(text("ctid")))]
    assert sorted(stored_order) == sorted(cast_order)
    assert stored_order != cast_order  # 30 ballots: the same order again has odds far below one in a million


def test_named_mode_stores_and_publishes_the_voter(db, make_vote):
    vote = make_vote(is_secret=False)
    vote.open()
    receipt = cast(db, vote, vote.members[0], ((vote.nominations[0].id,),))
    db.session.commit()
    vote.close()
    [ballot] = db.session.scalars(select(Ballot)).all()
    assert ballot.voter_id == vote.members[0].id
    result = db.session.scalar(select(Result))
    assert f"# {receipt.code} Member 1" in result.ballot_file


def test_the_count_is_stored_once_with_its_explanation_and_checksum(db, make_vote):
    vote = make_vote(members=7)
    vote.open()
    p, v, ly = (n.id for n in vote.nominations)
    _cast_all(db, vote, [((p,), (v,)), ((p,),), ((v,), (p,)), ((p, ly),), ((ly,), (v,))])
    vote.close()
    cycle = db.session.get(Cycle, vote.cycle.id)
    again = voting.tally_round(cycle, now=vote.CLOSES + timedelta(hours=1))
    db.session.commit()
    [result] = db.session.scalars(select(Result)).all()
    assert again.id == result.id
    assert result.winner_nomination_id == p and result.method == "schulze"
    assert (result.eligible_voters, result.ballots_cast, result.is_quorum_met) == (7, 5, True)
    assert result.checksum == hashlib.sha256(result.ballot_file.encode()).hexdigest()
    assert result.tally["winner"] == "Palermo" and result.tally["tie_break"]
    assert "matrix" in result.tally or "pairwise" in repr(result.tally)
    lines = [line for line in result.ballot_file.splitlines() if not line.startswith("#")]
    codes = [line.split("# ")[1] for line in lines]
    assert codes == sorted(codes) and len(lines) == 5
    change_phase(cycle, Phase.TALLIED, actor=vote.secretariat, now=vote.CLOSES + timedelta(hours=2), by_hand=True)
    change_phase(cycle, Phase.ANNOUNCED, actor=vote.secretariat, now=vote.CLOSES + timedelta(hours=3), by_hand=True)
    db.session.commit()
    assert cycle.capital_city_id == vote.cities["Palermo"].id


def test_a_missed_quorum_opens_a_second_round_with_a_fresh_roll_and_deadline(db, make_vote):
    vote = make_vote(members=7)
    vote.open()
    p, v, ly = (n.id for n in vote.nominations)
    _cast_all(db, vote, [((v,),), ((v,),), ((p,),)])  # 3 of 7: the quorum is 4
    vote.close()
    cycle = db.session.get(Cycle, vote.cycle.id)
    first = db.session.scalar(select(Result))
    assert not first.is_quorum_met and first.ballots_cast == 3
    with pytest.raises(RuleViolation):
        change_phase(cycle, Phase.TALLIED, actor=vote.secretariat, now=vote.CLOSES + SECOND, by_hand=True)
    db.session.rollback()
    reopened = vote.CLOSES + timedelta(days=1)
    change_phase(cycle, Phase.VOTING_OPEN, actor=vote.secretariat, now=reopened, by_hand=True)
    db.session.commit()
    second = cycle.rounds[-1]
    assert second.number == 2 and second.closes_dt > reopened and len(second.roll) == 7
    assert second.closes_dt == cycle.voting_close_dt
    for member in vote.members[:5]:
        voting.cast_ballot(cycle, member, ((ly,),), now=reopened + timedelta(hours=1))
        db.session.commit()
    vote.close(second.closes_dt)
    result = voting.latest_result(cycle)
    assert result.round_id == second.id and result.is_quorum_met and result.winner_nomination_id == ly


def test_the_last_round_missing_quorum_ends_without_a_capital_and_says_why(db, make_vote):
    vote = make_vote(members=7, max_rounds=1)
    vote.open()
    _cast_all(db, vote, [((vote.nominations[0].id,),)])
    vote.close()
    cycle = db.session.get(Cycle, vote.cycle.id)
    change_phase(cycle, Phase.TALLIED, actor=vote.secretariat, now=vote.CLOSES + SECOND, by_hand=True)
    change_phase(cycle, Phase.NO_CAPITAL, actor=vote.secretariat, now=vote.CLOSES + 2 * SECOND, by_hand=True)
    db.session.commit()
    assert cycle.phase == Phase.NO_CAPITAL and cycle.no_capital_reason == "quorum_missed"
    assert cycle.capital_city_id is None


def test_the_runner_up_replaces_a_city_that_withdraws_before_16_may(db, make_vote):
    vote = make_vote(members=7)
    vote.open()
    p, v, ly = (n.id for n in vote.nominations)
    _cast_all(db, vote, [((p,), (v,), (ly,))] * 4 + [((v,), (p,))])
    vote.close()
    cycle = db.session.get(Cycle, vote.cycle.id)
    later = vote.CLOSES + timedelta(days=2)
    change_phase(cycle, Phase.TALLIED, actor=vote.secretariat, now=later, by_hand=True)
    change_phase(cycle, Phase.ANNOUNCED, actor=vote.secretariat, now=later, by_hand=True)
    with pytest.raises(RuleViolation) as refused:
        voting.designate_runner_up(cycle, " ", actor=vote.secretariat, now=later)
    assert refused.value.reason.code == "runner_up.reason_missing"
    voting.designate_runner_up(cycle, "Palermo withdrew after the floods.", actor=vote.secretariat, now=later)
    db.session.commit()
    assert cycle.capital_city_id == vote.cities["Venlo"].id
    [first, second] = voting.designations(cycle)
    assert (first.nomination_id, second.nomination_id, second.is_runner_up) == (p, v, True)
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "cycle.runner_up_designated")).all()
    assert entry.data["reason"] == "Palermo withdrew after the floods."
    with pytest.raises(RuleViolation) as refused:
        voting.designate_runner_up(cycle, "Venlo too.", actor=vote.secretariat,
                                   now=vote.cycle.announcement_dt.replace(month=5, day=16))
    assert refused.value.reason.code == "runner_up.too_late"


def test_the_worker_closes_counts_and_announces_at_the_deadlines(db, make_vote):
    from capital.services.cycles import advance_due_cycles

    vote = make_vote(members=7)
    vote.open()
    p, v, _ = (n.id for n in vote.nominations)
    _cast_all(db, vote, [((v,),), ((v,), (p,)), ((p,),), ((v,),)])
    assert advance_due_cycles(vote.CLOSES - SECOND) == []
    [closed] = advance_due_cycles(vote.CLOSES)
    db.session.commit()
    assert closed.phase == Phase.VOTING_CLOSED
    result = db.session.scalar(select(Result))
    assert result.is_quorum_met and result.winner_nomination_id == v
    [tallied] = advance_due_cycles(vote.CLOSES + SECOND)
    assert tallied.phase == Phase.TALLIED
    cycle = db.session.get(Cycle, vote.cycle_id)
    [announced] = advance_due_cycles(cycle.announcement_dt)
    db.session.commit()
    assert announced.phase == Phase.ANNOUNCED and cycle.capital_city_id == vote.cities["Venlo"].id
    assert db.session.query(Result).count() == 1


def test_no_eligible_nomination_is_the_reason_given(db, make_vote):
    from capital.domain.nominations import NominationState

    vote = make_vote()
    for nomination in vote.nominations:
        nomination.state = NominationState.INELIGIBLE
    db.session.commit()
    cycle = db.session.get(Cycle, vote.cycle_id)
    change_phase(cycle, Phase.NO_CAPITAL, actor=vote.secretariat, now=vote.OPENS, by_hand=True)
    db.session.commit()
    assert cycle.no_capital_reason == "no_eligible" and cycle.rounds == []


def test_two_nominations_sharing_a_host_are_named_apart_and_the_file_recounts(db, make_vote, tmp_path):
    import io
    import json

    from capital.voting.cli import main

    vote = make_vote(hosts=("Lyon", "Lyon", "Venlo"), members=7)
    vote.open()
    first, second, venlo = (n.id for n in vote.nominations)
    _cast_all(db, vote, [((second,), (first,)), ((second,),), ((venlo,), (second,)), ((first, second),)])
    vote.close()
    result = db.session.scalar(select(Result))
    names = result.tally["candidates"]
    assert len(set(names)) == 3 and sum(name.startswith("Lyon (") for name in names) == 2
    path = tmp_path / "ballots.txt"
    path.write_text(result.ballot_file)
    order = ",".join(result.tally["tie_break"])
    out = io.StringIO()
    assert main(["--method", "schulze", "--candidates", order, "--tie-break", order, "--json", str(path)],
                stdout=out) == 0
    recount = json.loads(out.getvalue())
    assert recount["ranking"] == result.tally["ranking"]
    assert dict(zip(names, result.tally["candidate_ids"], strict=True))[recount["winner"]] == second


def test_casts_racing_the_close_are_either_shuffled_in_or_refused(app, db, make_vote):
    vote = make_vote(members=30)
    vote.open()
    ids = [m.id for m in vote.members]
    secretariat_id = vote.secretariat.id
    choice = vote.nominations[0].id

    def act(i):
        if i == 30:
            from capital.services.cycles import close_voting

            return close_voting(db.session.get(Cycle, vote.cycle_id), actor=db.session.get(User, secretariat_id),
                                now=vote.CLOSES) and "closed"
        return cast(db, vote, db.session.get(User, ids[i]), ((choice,),), now=vote.CLOSES - SECOND)

    outcomes = run_parallel(app, 31, act)
    receipts = [o for o in outcomes if isinstance(o, voting.Receipt)]
    assert "closed" in outcomes and len(receipts) + outcomes.count("ballot.closed") == 30
    assert db.session.query(Ballot).count() == db.session.query(Participation).count() == len(receipts)
    # Every stored ballot went through the shuffle: none slipped in after it.
    assert len(set(db.session.execute(text("SELECT xmin::text FROM ballots")).scalars())) <= 1
    assert db.session.scalar(select(Result)).ballots_cast == len(receipts)
