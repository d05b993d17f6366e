"""The shortlist vote on PostgreSQL: the same roll, receipts, secrecy and audit as the final vote, counted
by approval, published at its date to the second, and the final vote among the finalists only."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from capital.domain.messages import RuleViolation
from capital.domain.phase import Phase
from capital.domain.publication import shortlist_is_public
from capital.models import AuditEntry, Ballot, Cycle, Mail, Participation, Result
from capital.services import voting
from capital.services.cycles import advance_due_cycles, change_phase, transition_context
from capital.services.mail import mail_bodies
from tests.conftest import VOTE_YEAR

SECOND = timedelta(seconds=1)
SHORTLIST_OPENS = datetime(VOTE_YEAR, 1, 20, 12, tzinfo=UTC)
SHORTLIST_CLOSES = datetime(VOTE_YEAR, 2, 1, 12, tzinfo=UTC)
PUBLICATION = datetime(VOTE_YEAR, 2, 5, 12, tzinfo=UTC)
UPDATES_CLOSE = datetime(VOTE_YEAR, 2, 20, 12, tzinfo=UTC)
HOSTS = ("Palermo", "Venlo", "Lyon", "Tunis")


@pytest.fixture
def vote(make_vote):
    """Four eligible nominations, seven members, a shortlist of two; the review is over."""
    return make_vote(hosts=HOSTS, members=7, shortlist_size=2, shortlist_open_dt=SHORTLIST_OPENS,
                     shortlist_close_dt=SHORTLIST_CLOSES, shortlist_publication_dt=PUBLICATION,
                     finalist_update_close_dt=UPDATES_CLOSE)


def _open(db, vote):
    [change] = advance_due_cycles(SHORTLIST_OPENS)
    assert change.phase == Phase.SHORTLIST_VOTING
    db.session.commit()
    return voting.current_round(vote.cycle, shortlist=True)


def _approve(db, vote, member, *hosts, now=SHORTLIST_OPENS + timedelta(days=1)):
    ids = vote.ids()
    receipt = voting.cast_ballot(vote.cycle, member, (tuple(sorted(ids[h] for h in hosts)),), now=now, shortlist=True)
    db.session.commit()
    return receipt


def _vote_and_count(db, vote):
    _open(db, vote)
    for member, hosts in zip(vote.members, [("Palermo", "Venlo"), ("Venlo",), ("Lyon", "Venlo"), ("Lyon",),
                                             ("Palermo",)]):
        _approve(db, vote, member, *hosts)
    [change] = advance_due_cycles(SHORTLIST_CLOSES)
    assert change.phase == Phase.SHORTLIST_COUNTED
    db.session.commit()


def test_the_shortlist_vote_opens_at_its_date_with_the_roll_and_a_tie_break_order(db, vote):
    assert advance_due_cycles(SHORTLIST_OPENS - SECOND) == []
    shortlist_round = _open(db, vote)
    assert (shortlist_round.number, shortlist_round.is_shortlist) == (0, True)
    assert shortlist_round.closes_dt == SHORTLIST_CLOSES
    assert sorted(shortlist_round.roll) == sorted(m.id for m in vote.members)
    assert sorted(shortlist_round.tie_break_order) == sorted(vote.ids().values())
    assert voting.current_round(vote.cycle) is None  # no round of the final vote yet
    assert voting.vote_cycle() is None


def test_an_approval_ballot_approves_one_to_k_and_is_refused_otherwise(db, vote):
    _open(db, vote)
    with pytest.raises(RuleViolation) as refused:
        _approve(db, vote, vote.members[0], "Palermo", "Venlo", "Lyon")
    assert refused.value.reason.code == "shortlist.too_many"
    db.session.rollback()
    with pytest.raises(RuleViolation) as refused:  # the final vote is not open
        voting.cast_ballot(vote.cycle, vote.members[0], ((vote.ids()["Lyon"],),), now=SHORTLIST_OPENS + SECOND)
    assert refused.value.reason.code == "ballot.closed"
    db.session.rollback()
    receipt = _approve(db, vote, vote.members[0], "Palermo", "Venlo")
    assert len(receipt.code.replace("-", "")) == 16
    with pytest.raises(RuleViolation) as refused:
        _approve(db, vote, vote.members[0], "Lyon")
    assert refused.value.reason.code == "ballot.already_voted"
    db.session.rollback()
    with pytest.raises(RuleViolation) as refused:  # one second late
        _approve(db, vote, vote.members[1], "Lyon", now=SHORTLIST_CLOSES)
    assert refused.value.reason.code == "ballot.closed"


def test_the_shortlist_ballots_keep_the_final_votes_secrecy(db, vote, caplog):
    caplog.set_level(logging.DEBUG)
    _open(db, vote)
    receipts = [_approve(db, vote, member, host) for member, host in zip(vote.members, HOSTS * 2)]
    ballot_xmins = {int(x) for x in db.session.execute(text("SELECT xmin::text FROM ballots")).scalars()}
    participation_xmins = {int(x) for x in db.session.execute(text("SELECT xmin::text FROM participations")).scalars()}
    cast_order = [tuple(b.ranking[0]) for b in db.session.scalars(select(Ballot).order_by(text("ctid")))]
    advance_due_cycles(SHORTLIST_CLOSES)
    db.session.commit()
    [rewritten] = {int(x) for x in db.session.execute(text("SELECT xmin::text FROM ballots")).scalars()}
    assert rewritten not in participation_xmins | ballot_xmins  # rewritten at once, in a new transaction
    stored = [tuple(b.ranking[0]) for b in db.session.scalars(select(Ballot).order_by(text("ctid")))]
    assert sorted(stored) == sorted(cast_order)
    assert all(b.voter_id is None and b.replacement_hash is None for b in db.session.scalars(select(Ballot)))
    codes = {r.code for r in receipts}
    assert {b.receipt_code for b in db.session.scalars(select(Ballot))} == codes
    assert db.session.query(Participation).count() == len(codes) == 7
    ballot_ids = {b.id for b in db.session.scalars(select(Ballot))}
    written = [repr((e.action, e.object_id, e.data)) for e in db.session.scalars(select(AuditEntry))]
    written += [repr((m.recipient, m.subject, *mail_bodies(m))) for m in db.session.scalars(select(Mail))]
    written += [record.getMessage() for record in caplog.records]
    for secret in codes | ballot_ids:
        assert not any(secret in line for line in written)
    voted = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "voting.voted")).all()
    assert len(voted) == 7 and all(e.object_type == "Participation" for e in voted)
    assert all(e.data == {"round": 0, "shortlist": True} for e in voted)


def test_the_count_is_by_approval_and_the_kth_place_tie_goes_by_the_published_order(db, vote):
    _vote_and_count(db, vote)
    result = voting.shortlist_result(vote.cycle)
    ids = vote.ids()
    assert result.method == "approval" and result.is_quorum_met and result.winner_nomination_id is None
    assert result.tally["scores"] == {"Palermo": 2, "Venlo": 3, "Lyon": 2, "Tunis": 0}
    # Palermo and Lyon tie for the second place: the round's published order decides.
    order = voting.current_round(vote.cycle, shortlist=True).tie_break_order
    second = min((ids["Palermo"], ids["Lyon"]), key=order.index)
    assert result.tally["shortlist_ids"] == [ids["Venlo"], second]
    # One line a ballot, its approvals as one equal group, with its receipt.
    assert re.search(r"^(Lyon = Venlo|Venlo = Lyon) # [0-9A-Z-]{19}$", result.ballot_file, re.M)
    assert "# method: approval" in result.ballot_file
    assert transition_context(vote.cycle).shortlist_drawn is True


def test_the_shortlist_is_published_at_its_date_to_the_second_not_one_earlier(db, vote):
    _vote_and_count(db, vote)
    cycle = db.session.get(Cycle, vote.cycle_id)
    assert not shortlist_is_public(cycle, PUBLICATION)  # counted, not published
    assert advance_due_cycles(PUBLICATION - SECOND) == []
    assert not shortlist_is_public(cycle, PUBLICATION - SECOND)
    [change] = advance_due_cycles(PUBLICATION)
    db.session.commit()
    assert change.phase == Phase.SHORTLISTED
    assert not shortlist_is_public(cycle, PUBLICATION - SECOND)  # -1 s
    assert shortlist_is_public(cycle, PUBLICATION)  # 0 s


def test_publishing_by_hand_early_publishes_at_that_moment(db, vote):
    _vote_and_count(db, vote)
    early = PUBLICATION - timedelta(days=2)
    change_phase(vote.cycle, Phase.SHORTLISTED, actor=vote.secretariat, now=early, by_hand=True)
    db.session.commit()
    cycle = db.session.get(Cycle, vote.cycle_id)
    assert cycle.shortlist_publication_dt == early
    assert shortlist_is_public(cycle, early) and not shortlist_is_public(cycle, early - SECOND)


def test_the_final_vote_is_among_the_finalists_only(db, vote):
    _vote_and_count(db, vote)
    advance_due_cycles(PUBLICATION)
    db.session.commit()
    final = vote.open()
    finalists = voting.finalists(vote.cycle)
    assert len(finalists) == 2 and sorted(final.tie_break_order) == sorted(finalists)
    assert (final.number, final.is_shortlist) == (1, False)
    assert voting.current_round(vote.cycle).id == final.id and voting.vote_cycle().id == vote.cycle_id
    outsider = next(n for n in vote.ids().values() if n not in finalists)
    with pytest.raises(RuleViolation) as refused:
        voting.cast_ballot(vote.cycle, vote.members[0], ((outsider,),), now=vote.OPENS + SECOND)
    assert refused.value.reason.code == "ballot.unknown_nomination"
    assert transition_context(vote.cycle).rounds_used == 1


def test_a_shortlist_vote_without_its_quorum_ends_the_cycle_without_a_capital(db, vote):
    _open(db, vote)
    _approve(db, vote, vote.members[0], "Lyon")  # one of seven: the quorum is half
    advance_due_cycles(SHORTLIST_CLOSES)
    db.session.commit()
    assert transition_context(vote.cycle).shortlist_drawn is False
    assert voting.finalists(vote.cycle) is None
    [change] = advance_due_cycles(PUBLICATION)
    db.session.commit()
    cycle = db.session.get(Cycle, vote.cycle_id)
    assert change.phase == Phase.NO_CAPITAL and cycle.no_capital_reason == "shortlist_quorum_missed"
    assert db.session.scalar(select(Result.is_quorum_met)) is False


def test_every_nominating_city_is_told_whether_it_is_a_finalist_in_its_mail_language(db, vote, make_user):
    from capital.domain.roles import Role
    from tests.conftest import body_html, body_text, write_group_mail

    nominators = {n.host_city.name: n.nominating_city for n in vote.nominations}
    french = make_user(Role.REPRESENTATIVE, city=nominators["Venlo"], locale="fr")
    _vote_and_count(db, vote)  # Venlo and one of Palermo and Lyon are the finalists
    advance_due_cycles(PUBLICATION)
    db.session.commit()
    write_group_mail(PUBLICATION)
    mails = {m.recipient: m for m in db.session.scalars(select(Mail).where(Mail.kind == "shortlist"))}
    expected = {french.email} | {city.contact_email.lower() for city in nominators.values()}
    assert set(mails) == expected
    assert "Capitale du vivre-ensemble" in mails[french.email].subject
    assert "finaliste" in body_text(mails[french.email])
    tunis = body_text(mails[nominators["Tunis"].contact_email.lower()])
    assert "is not on it" in tunis and "Venlo" in tunis  # the finalists are named to everyone
    # Venlo's contact writes in its first representative's language; the other finalist's in English.
    venlo = mails[nominators["Venlo"].contact_email.lower()]
    assert "elle est finaliste" in body_text(venlo) and "1 mars 2031" in body_text(venlo)
    [other] = [n for n in vote.nominations if n.id in voting.finalists(vote.cycle) and n.host_city.name != "Venlo"]
    finalist = mails[other.nominating_city.contact_email.lower()]
    assert "it is a finalist" in body_text(finalist) and "1 March 2031" in body_text(finalist)
    assert "<li>Venlo</li>" in body_html(finalist)


def test_a_conflict_declared_during_the_shortlist_vote_takes_the_member_off_its_roll(db, vote):
    shortlist_round = _open(db, vote)
    first, second = vote.members[:2]
    _approve(db, vote, first, "Lyon")
    with pytest.raises(RuleViolation) as refused:  # too late once cast, as in the final vote
        voting.declare_conflict(vote.cycle, first, "My brother leads Lyon's dossier.", now=SHORTLIST_OPENS + SECOND)
    assert refused.value.reason.code == "conflict.after_casting"
    db.session.rollback()
    voting.declare_conflict(vote.cycle, second, "My sister leads Venlo's dossier.", now=SHORTLIST_OPENS + SECOND)
    db.session.commit()
    db.session.refresh(shortlist_round)
    assert first.id in shortlist_round.roll and second.id not in shortlist_round.roll
    with pytest.raises(RuleViolation) as refused:
        _approve(db, vote, second, "Venlo")
    assert refused.value.reason.code == "ballot.not_on_roll"
