"""The board vote: the roll, conflicts, ballots, closing, the count, the announcement (docs/vote.md).

Every function takes ``now`` (and the ``actor`` where a person acts), flushes, and leaves the
commit to the caller. The phase changes in :mod:`capital.services.cycles` call the steps that
follow from them: opening voting freezes the roll and draws the tie-break order
(:func:`open_round`), closing it shuffles and counts the round's ballots (:func:`close_round`,
:func:`tally_round`), the announcement designates the winner (:func:`designate_winner`).

Secrecy. In secret mode a :class:`Participation` says who voted and a :class:`Ballot` what was
voted; the ballot has a random id, no voter, no timestamp, and the audit entry "X voted" names
the participation only. Nothing in the app logs, mails or records the receipt code. Rows are
stored in the order they are inserted, and a ballot's row shares its transaction id
(PostgreSQL's ``xmin``) with its participation's: closing the round therefore rewrites every
ballot, in a random order, in one new transaction, so neither the physical order nor the
transaction ids tie a ballot to a voter afterwards.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import secrets
import shlex
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.exc import IntegrityError

from capital.domain.ballots import (
    BoardMember, Ranking, candidate_names, is_quorum_met, quorum_needed, new_receipt_code, new_replacement_secret, new_seed,
    secret_hash, tie_break_order, voter_roll,
)
from capital.domain.messages import Message, N_, RuleViolation
from capital.domain.nominations import NominationState
from capital.domain.phase import Phase, vote_phase
from capital.domain.publication import result_is_public
from capital.domain.roles import Role
from capital.extensions import db
from capital.models import (
    Ballot, BoardTerm, City, Cycle, Designation, Nomination, Participation, Recusal, Result, RoleGrant, User,
    VotingRound,
)
from capital.services.audit import Actor, record
from capital.voting import shortlist as choose_shortlist
from capital.voting import tally

log = logging.getLogger(__name__)

#: Why a cycle ended without a capital; the codes are stored on the cycle.
NO_CAPITAL_REASONS = {
    "no_eligible": N_("No nomination was eligible."),
    "quorum_missed": N_("The board did not reach its quorum in the last allowed voting round."),
    "unresolved_tie": N_("The count ended in a tie that could not be resolved."),
    "shortlist_quorum_missed": N_("The board did not reach its quorum in the shortlist vote."),
}
# Nominations whose cities are in conflict: any that was put forward, whatever became of it.
_PUT_FORWARD = (NominationState.SUBMITTED, NominationState.ELIGIBLE, NominationState.INELIGIBLE)
_shuffler = random.SystemRandom()


@dataclass(frozen=True)
class Receipt:
    """What the voter takes away: shown once, stored nowhere beside their identity."""

    code: str
    replacement_secret: str | None = None


def _refuse(message: str, code: str, **params) -> RuleViolation:
    return RuleViolation(Message(message, params, code))


def current_round(cycle: Cycle, *, shortlist: bool = False) -> VotingRound | None:
    """The cycle's latest round of the final vote (or its shortlist vote), or None before it opened."""
    return db.session.scalar(select(VotingRound).where(VotingRound.cycle_id == cycle.id,
                                                       VotingRound.is_shortlist.is_(shortlist))
                             .order_by(VotingRound.number.desc()).limit(1))


def shortlist_result(cycle: Cycle) -> Result | None:
    """The count of the cycle's shortlist vote, once there is one."""
    return db.session.scalar(select(Result).join(VotingRound, Result.round_id == VotingRound.id)
                             .where(VotingRound.cycle_id == cycle.id, VotingRound.is_shortlist.is_(True)))


def finalists(cycle: Cycle) -> list[int] | None:
    """The nominations the shortlist vote put on the shortlist, in its order; None without a counted
    shortlist vote (ask :func:`capital.domain.publication.shortlist_is_public` before showing them)."""
    result = shortlist_result(cycle)
    if result is None or not result.is_quorum_met:
        return None
    return list(result.tally.get("shortlist_ids", []))


def ballot_nominations(voting_round: VotingRound) -> list[Nomination]:
    """The nominations on the round's ballot, in the order of their host cities' names (both cities loaded)."""
    nominations = db.session.scalars(
        select(Nomination).where(Nomination.id.in_(voting_round.tie_break_order))
        .options(selectinload(Nomination.host_city), selectinload(Nomination.nominating_city))).all()
    return sorted(nominations, key=lambda n: (n.host_city.name_latin.casefold(), n.id))


@dataclass(frozen=True)
class BallotRow:
    """One line of a ballot as the page shows it: the nomination, its title and both its cities' names."""

    id: int
    title: str
    host: str
    nominating: str


def ballot_rows(cycle_id: int, nomination_ids: list[int]) -> list[BallotRow]:
    """The ballot's lines for ``nomination_ids`` (of the cycle ``cycle_id``), in the order of their host
    cities' names, read in one query."""
    host, nominating = aliased(City), aliased(City)
    # Selected by cycle, one parameter, then kept by id: cheaper than an IN of 200 parameters.
    rows = db.session.execute(
        select(Nomination.id, Nomination.title, host.name, host.name_latin, nominating.name)
        .join(host, Nomination.host_city_id == host.id)
        .join(nominating, Nomination.nominating_city_id == nominating.id)
        .where(Nomination.cycle_id == cycle_id)).all()
    wanted = set(nomination_ids)
    rows = sorted((row for row in rows if row[0] in wanted), key=lambda row: (row[3].casefold(), row[0]))
    return [BallotRow(id=row[0], title=row[1], host=row[2], nominating=row[4]) for row in rows]


def row_names(rows: list[BallotRow]) -> dict[int, str]:
    """Each line's unique name on the ballot file, as :func:`nomination_names` gives it."""
    return candidate_names([(row.id, row.host, row.nominating) for row in rows])


def nomination_names(nominations: list[Nomination]) -> dict[int, str]:
    """Each nomination's unique name on the ballot file (its host city, told apart when shared)."""
    return candidate_names([(n.id, n.host_city.name, n.nominating_city.name) for n in nominations])


# --- opening: the roll and the tie-break ------------------------------------------------------


def open_round(cycle: Cycle, *, actor: Actor, now: datetime, shortlist: bool = False) -> VotingRound:
    """Start the next voting round: freeze the roll, recuse automatically, draw the tie-break.

    Called when the cycle enters "voting open"; the round closes at the cycle's voting deadline.
    With ``shortlist``, the round is the shortlist vote (number 0), called when the cycle enters
    "shortlist voting" and closing at the shortlist deadline. The ballot holds every eligible
    nomination, or only the finalists once the cycle has drawn a shortlist.
    """
    if shortlist:
        number = 0
    else:
        number = (db.session.scalar(select(func.max(VotingRound.number)).where(
            VotingRound.cycle_id == cycle.id, VotingRound.is_shortlist.is_(False))) or 0) + 1
    eligible = db.session.scalars(select(Nomination.id).where(
        Nomination.cycle_id == cycle.id, Nomination.state == NominationState.ELIGIBLE)).all()
    drawn = None if shortlist else finalists(cycle)
    if drawn is not None:
        eligible = [n for n in eligible if n in set(drawn)]
    put_forward = db.session.execute(select(Nomination.nominating_city_id, Nomination.host_city_id).where(
        Nomination.cycle_id == cycle.id, Nomination.state.in_(_PUT_FORWARD))).all()
    conflicted = {city for row in put_forward for city in row}
    recused = set(db.session.scalars(select(Recusal.user_id).where(Recusal.cycle_id == cycle.id)))
    roll = voter_roll(_board_members(), now.date(), conflicted_cities=conflicted, recused=recused,
                      requires_recusal=cycle.requires_recusal)
    for user_id in roll.automatic_recusals:
        recusal = Recusal(cycle_id=cycle.id, user_id=user_id, is_automatic=True, declared_dt=now,
                          reason="represents a nominating or host city")
        db.session.add(recusal)
        db.session.flush()
        record("voting.recused", recusal, actor="system", now=now, cycle_id=cycle.id,
               data={"user_id": user_id, "automatic": True})
    seed = new_seed()
    voting_round = VotingRound(cycle_id=cycle.id, number=number, opens_dt=now, is_shortlist=shortlist,
                               closes_dt=cycle.shortlist_close_dt if shortlist else cycle.voting_close_dt,
                               tie_break_seed=seed, tie_break_order=tie_break_order(seed, eligible),
                               roll=list(roll.voters))
    db.session.add(voting_round)
    db.session.flush()
    record("voting.round_opened", voting_round, actor=actor, now=now, cycle_id=cycle.id,
           data={"round": number, **({"shortlist": True} if shortlist else {}), "roll": len(roll.voters),
                 "tie_break_seed": seed, "tie_break_order": voting_round.tie_break_order})
    return voting_round


def _board_members() -> list[BoardMember]:
    users = db.session.scalars(select(User).join(RoleGrant).where(
        RoleGrant.role == Role.BOARD, User.is_active_account.is_(True))).unique().all()
    terms: dict[int, list] = {}
    for term in db.session.scalars(select(BoardTerm).where(BoardTerm.user_id.in_([u.id for u in users]))):
        terms.setdefault(term.user_id, []).append((term.starts_on, term.ends_on))
    return [BoardMember(u.id, u.city_id, tuple(terms.get(u.id, ()))) for u in users]


def declare_conflict(cycle: Cycle, user: User, reason: str, *, now: datetime) -> Recusal:
    """``user`` declares a conflict of interest in ``cycle``: they leave the roll of the open vote (the
    shortlist vote's or the final vote's) and cannot vote.

    Refused without a reason, after the vote, or once they have cast a ballot in the open round.
    """
    reason = reason.strip()
    if not reason:
        raise _refuse(N_("Say why you have a conflict of interest."), "conflict.reason_missing")
    cycle = _shared(cycle)
    if cycle.phase.has_reached(Phase.VOTING_CLOSED):
        raise _refuse(N_("The vote is over: a conflict can no longer be declared."), "conflict.too_late")
    if db.session.scalar(select(Recusal.id).where(Recusal.cycle_id == cycle.id, Recusal.user_id == user.id)):
        raise _refuse(N_("You have already stood aside from this cycle’s vote."), "conflict.already")
    # The vote open now, the shortlist vote's or the final vote's: the member leaves its roll.
    voting_round = current_round(cycle, shortlist=cycle.phase.is_shortlist_voting_open)
    if voting_round is not None and cycle.phase.is_any_vote_open:
        voting_round = db.session.get(VotingRound, voting_round.id, with_for_update=True, populate_existing=True)
        if _has_voted(voting_round, user):
            raise _refuse(N_("You have already voted in this round: declare a conflict before casting."),
                          "conflict.after_casting")
        voting_round.roll = [user_id for user_id in voting_round.roll if user_id != user.id]
    recusal = Recusal(cycle_id=cycle.id, user_id=user.id, reason=reason, is_automatic=False, declared_dt=now)
    db.session.add(recusal)
    db.session.flush()
    record("voting.recused", recusal, actor=user, now=now, cycle_id=cycle.id,
           data={"user_id": user.id, "automatic": False, "reason": reason})
    return recusal


def _has_voted(voting_round: VotingRound, user: User) -> bool:
    return db.session.scalar(select(Participation.id).where(
        Participation.round_id == voting_round.id, Participation.user_id == user.id)) is not None


def has_voted(cycle: Cycle, user: User, *, shortlist: bool = False) -> bool:
    """Whether ``user`` has cast a ballot in the cycle's current round (or its shortlist vote)."""
    voting_round = current_round(cycle, shortlist=shortlist)
    return voting_round is not None and _has_voted(voting_round, user)


# --- casting ----------------------------------------------------------------------------------


def cast_ballot(cycle: Cycle, voter: User, ranking: Ranking, *, now: datetime,
                replacement_secret: str | None = None, shortlist: bool = False) -> Receipt:
    """Store ``voter``'s ballot in the open round and return the receipt (show it, keep it nowhere).

    One counted ballot per voter per round: the database refuses a second participation. With
    ``replacement_secret`` (when the cycle allows replacing) the ballot that secret belongs to
    is replaced instead; a used secret is spent. Refused outside the voting window, to anyone
    not on the round's roll, and for a nomination not on the ballot. With ``shortlist`` the
    ballot goes to the shortlist vote: ``ranking`` is one group, its approvals, at most K.
    """
    voting_round = _open_round_for(cycle, voter, now, shortlist=shortlist)
    ranked = [n for group in ranking for n in group]
    if not ranked or len(set(ranked)) != len(ranked) or not set(ranked) <= set(voting_round.tie_break_order):
        raise _refuse(N_("The ballot names a nomination that is not on it."), "ballot.unknown_nomination")
    if shortlist and (len(ranking) != 1 or len(ranked) > cycle.shortlist_size):
        raise _refuse(N_("Approve at most %(size)s nominations: you ticked %(count)s."), "shortlist.too_many",
                      size=cycle.shortlist_size, count=len(ranked))
    code = new_receipt_code()
    secret = new_replacement_secret() if cycle.allows_ballot_replacement else None
    ballot = Ballot(id=_ballot_id(), round_id=voting_round.id, receipt_code=code,
                    ranking=[list(group) for group in ranking],
                    voter_id=None if cycle.is_secret else voter.id,
                    replacement_hash=secret_hash(secret) if secret else None)
    if replacement_secret is not None:
        _replace(cycle, voting_round, voter, replacement_secret, ballot)
        return Receipt(code, secret)
    try:
        with db.session.begin_nested():
            participation = Participation(round_id=voting_round.id, user_id=voter.id, voted_dt=now)
            db.session.add(participation)
            db.session.flush()
    except IntegrityError:
        raise _refuse(N_("You have already voted in this round."), "ballot.already_voted") from None
    db.session.add(ballot)
    db.session.flush()
    record("voting.voted", participation, actor=voter, now=now, cycle_id=cycle.id,
           data={"round": voting_round.number, **({"shortlist": True} if shortlist else {})})
    return Receipt(code, secret)


def _ballot_id() -> str:
    return secrets.token_hex(16)


def _shared(cycle: Cycle) -> Cycle:
    """The cycle re-read under a shared lock, taken before any lock on its rounds.

    Casts and declarations go on side by side, but a phase change (which locks the cycle for
    update, then its round) waits for them and they for it: no ballot slips in after the
    round's ballots were shuffled, and locks are always taken in the same order.
    """
    return db.session.get(Cycle, cycle.id, with_for_update={"read": True}, populate_existing=True)


def _open_round_for(cycle: Cycle, voter: User, now: datetime, *, shortlist: bool = False) -> VotingRound:
    cycle = _shared(cycle)
    voting_round = current_round(cycle, shortlist=shortlist)
    if voting_round is not None:
        voting_round = db.session.get(VotingRound, voting_round.id, populate_existing=True)
    if (voting_round is None or cycle.phase != vote_phase(shortlist=shortlist) or voting_round.closed_dt is not None
            or not voting_round.opens_dt <= now < voting_round.closes_dt):
        raise _refuse(N_("Voting is not open: the ballot was not stored."), "ballot.closed")
    if voter.id not in voting_round.roll:
        raise _refuse(N_("You are not on this round’s voter roll."), "ballot.not_on_roll")
    return voting_round


def _replace(cycle: Cycle, voting_round: VotingRound, voter: User, secret: str, ballot: Ballot) -> None:
    if not cycle.allows_ballot_replacement:
        raise _refuse(N_("This cycle does not allow replacing a ballot."), "ballot.no_replacement")
    old = db.session.scalar(select(Ballot).where(
        Ballot.round_id == voting_round.id, Ballot.replacement_hash == secret_hash(secret)).with_for_update())
    if old is None or not _has_voted(voting_round, voter) or (not cycle.is_secret and old.voter_id != voter.id):
        raise _refuse(N_("This replacement code is not valid, or it has been used already."),
                      "ballot.bad_replacement_secret")
    db.session.delete(old)
    db.session.flush()
    db.session.add(ballot)
    db.session.flush()


# --- closing and counting ---------------------------------------------------------------------


def close_round(cycle: Cycle, *, now: datetime, shortlist: bool = False) -> VotingRound | None:
    """Close the cycle's current round (or its shortlist vote) and rewrite its ballots in a random order;
    idempotent."""
    voting_round = current_round(cycle, shortlist=shortlist)
    if voting_round is None:
        return None
    voting_round = db.session.get(VotingRound, voting_round.id, with_for_update=True, populate_existing=True)
    if voting_round.closed_dt is not None:
        return voting_round
    voting_round.closed_dt = now
    rows = [dict(row._mapping) for row in db.session.execute(
        select(Ballot.receipt_code, Ballot.ranking, Ballot.voter_id).where(Ballot.round_id == voting_round.id))]
    db.session.execute(delete(Ballot).where(Ballot.round_id == voting_round.id)
                       .execution_options(synchronize_session=False))
    _shuffler.shuffle(rows)
    # Fresh rows with fresh ids, inserted in the shuffled order in a few multi-row statements of
    # this one transaction; the replacement hashes go too: nobody may replace any more.
    if rows:
        db.session.execute(insert(Ballot.__table__), [
            {**row, "id": _ballot_id(), "round_id": voting_round.id, "replacement_hash": None} for row in rows])
    record("voting.round_closed", voting_round, actor="system", now=now, cycle_id=cycle.id,
           data={"round": voting_round.number, "ballots": len(rows)})
    return voting_round


def ballot_file(cycle: Cycle, voting_round: VotingRound, names: dict[int, str]) -> str:
    """The round's published ballot file: one ballot per line in receipt-code order, each with
    its receipt code (and, in named mode, its voter) as a comment."""
    ballots = db.session.scalars(select(Ballot).where(Ballot.round_id == voting_round.id)
                                 .order_by(Ballot.receipt_code)).all()
    voters = {}
    if not cycle.is_secret:
        ids = {b.voter_id for b in ballots if b.voter_id}
        voters = {u.id: u.name for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
    if voting_round.is_shortlist:
        heading = f"shortlist vote of {cycle.shortlist_size}, each line its approvals"
    else:
        heading = f"board vote, round {voting_round.number}"
    lines = [f"# Capital of Living Together {cycle.year}: {heading}",
             f"# method: {_method(cycle, voting_round)}; tie-break seed: {voting_round.tie_break_seed}",
             "# candidates, tie-break order: " + ", ".join(names[n] for n in voting_round.tie_break_order)]
    for ballot in ballots:
        line = " > ".join(" = ".join(names[n] for n in group) for group in ballot.ranking)
        comment = ballot.receipt_code
        if ballot.voter_id in voters:
            comment += " " + " ".join(voters[ballot.voter_id].translate(str.maketrans("\r\n", "  ")).split())
        lines.append(f"{line} # {comment}")
    return "\n".join(lines) + "\n"


def _method(cycle: Cycle, voting_round: VotingRound) -> str:
    return "approval" if voting_round.is_shortlist else cycle.method


def tally_round(cycle: Cycle, *, now: datetime, shortlist: bool = False) -> Result | None:
    """Count the cycle's current (closed) round once: a second call returns the same result.

    The count uses the cycle's method and the round's tie-break order; the result keeps the
    engine's explanation, the roll, the turnout, the quorum and the checksum of the ballot file.
    The shortlist vote is counted by approval, and its result keeps the shortlist
    (``tally["shortlist_ids"]``: the first K approved, the tie-break order deciding at the K-th place).
    """
    voting_round = current_round(cycle, shortlist=shortlist)
    if voting_round is None:
        return None
    voting_round = db.session.get(VotingRound, voting_round.id, with_for_update=True, populate_existing=True)
    existing = db.session.scalar(select(Result).where(Result.round_id == voting_round.id))
    if existing is not None:
        return existing
    if voting_round.closed_dt is None:
        raise _refuse(N_("The round is still open: close it before counting."), "tally.round_open")
    nominations = ballot_nominations(voting_round)
    names = nomination_names(nominations)
    text = ballot_file(cycle, voting_round, names)
    order = [names[n] for n in voting_round.tie_break_order]
    method = _method(cycle, voting_round)
    outcome = tally(text, method=method, candidates=order, tie_break=order)
    ids_by_name = {name: n for n, name in names.items()}
    data = outcome.to_dict()
    data["candidate_ids"] = [ids_by_name[name] for name in data["candidates"]]
    if shortlist:
        data["shortlist_ids"] = [ids_by_name[name] for name in choose_shortlist(outcome, cycle.shortlist_size)]
    result = Result(round_id=voting_round.id, method=method, tally=data,
                    winner_nomination_id=ids_by_name.get(outcome.winner) if outcome.winner and not shortlist else None,
                    eligible_voters=len(voting_round.roll), ballots_cast=outcome.ballots,
                    is_quorum_met=is_quorum_met(outcome.ballots, len(voting_round.roll), cycle.quorum_share),
                    checksum=hashlib.sha256(text.encode()).hexdigest(), ballot_file=text, tallied_dt=now)
    db.session.add(result)
    db.session.flush()
    record("voting.tallied", result, actor="system", now=now, cycle_id=cycle.id,
           data={"round": voting_round.number, "ballots": result.ballots_cast, "roll": result.eligible_voters,
                 "quorum_met": result.is_quorum_met, "winner": None if shortlist else outcome.winner,
                 **({"shortlist": data["shortlist_ids"]} if shortlist else {}), "checksum": result.checksum})
    return result


def counted_results(cycle: Cycle) -> list[Result]:
    """Every counted round of the cycle, first first, embargo or not (the board's own record)."""
    return list(db.session.scalars(select(Result).join(VotingRound, Result.round_id == VotingRound.id)
                                   .where(VotingRound.cycle_id == cycle.id).order_by(VotingRound.number)))


def latest_result(cycle: Cycle) -> Result | None:
    """The count of the cycle's latest counted round of the final vote."""
    return db.session.scalar(select(Result).join(VotingRound, Result.round_id == VotingRound.id)
                             .where(VotingRound.cycle_id == cycle.id, VotingRound.is_shortlist.is_(False))
                             .order_by(VotingRound.number.desc()).limit(1))


def no_capital_reason(cycle: Cycle, previous: Phase) -> str:
    """Why ``cycle``, leaving ``previous``, ends without a capital: a key of NO_CAPITAL_REASONS."""
    result = latest_result(cycle)
    if previous == Phase.SHORTLIST_COUNTED:
        return "shortlist_quorum_missed"
    if previous == Phase.NOMINATIONS_CLOSED or result is None:
        return "no_eligible"
    if not result.is_quorum_met:
        return "quorum_missed"
    return "unresolved_tie"


# --- the announcement and the runner-up -------------------------------------------------------


def designate_winner(cycle: Cycle, *, actor: Actor, now: datetime) -> Designation:
    """Make the latest count's winner the cycle's capital (at the announcement)."""
    result = latest_result(cycle)
    if result is None or result.winner_nomination_id is None:
        raise _refuse(N_("The count designates no city: there is nothing to announce."), "announce.no_winner")
    result.published_dt = now
    return _designate(cycle, db.session.get(Nomination, result.winner_nomination_id), actor=actor, now=now,
                      reason="")


def designate_runner_up(cycle: Cycle, reason: str, *, actor: Actor, now: datetime) -> Designation:
    """Designate the next city of the published ranking, when the designated one withdrew before
    the celebration; ``reason`` is logged and shown publicly."""
    reason = reason.strip()
    if cycle.phase != Phase.ANNOUNCED:
        raise _refuse(N_("A runner-up can only be designated after the announcement."), "runner_up.not_announced")
    if now.date() >= cycle.celebration_date:
        raise _refuse(N_("The celebration has come: the capital can no longer change."), "runner_up.too_late")
    if not reason:
        raise _refuse(N_("Say why the designated city withdrew."), "runner_up.reason_missing")
    nominee = runner_up(cycle)
    if nominee is None:
        raise _refuse(N_("No other city is left in the ranking."), "runner_up.none_left")
    return _designate(cycle, nominee, actor=actor, now=now, reason=reason)


def runner_up(cycle: Cycle) -> Nomination | None:
    """The next nomination of the ranking not designated yet, or None."""
    result = latest_result(cycle)
    if result is None:
        return None
    ids = dict(zip(result.tally["candidates"], result.tally["candidate_ids"], strict=True))
    taken = set(db.session.scalars(select(Designation.nomination_id).where(Designation.cycle_id == cycle.id)))
    for group in result.tally["ranking"]:
        for name in group:
            if ids[name] not in taken:
                return db.session.get(Nomination, ids[name])
    return None


def designations(cycle: Cycle) -> list[Designation]:
    """The cycle's designations, first (the announced winner) to last (the capital now)."""
    return list(db.session.scalars(select(Designation).where(Designation.cycle_id == cycle.id)
                                   .order_by(Designation.designated_dt, Designation.id)))


def _designate(cycle: Cycle, nomination: Nomination, *, actor: Actor, now: datetime, reason: str) -> Designation:
    first = not designations(cycle)
    designation = Designation(cycle_id=cycle.id, nomination_id=nomination.id, city_id=nomination.host_city_id,
                              is_runner_up=not first, reason=reason, designated_dt=now,
                              designated_by_id=actor.id if isinstance(actor, User) else None)
    cycle.capital_city_id = nomination.host_city_id
    db.session.add(designation)
    db.session.flush()
    record("cycle.capital_designated" if first else "cycle.runner_up_designated", designation, actor=actor,
           now=now, cycle_id=cycle.id, data={"nomination_id": nomination.id, "city_id": nomination.host_city_id,
                                             "reason": reason})
    return designation


# --- the audit bundle ---------------------------------------------------------------------------


def audit_files(cycle: Cycle, now: datetime) -> dict[str, bytes]:
    """The announced cycle's audit bundle: ``ballots.txt`` (exactly the file counted),
    ``tally.json`` (the engine's explanation, the roll, turnout, quorum, the tie-break seed and
    the recount command), the same two for the shortlist vote when the cycle had one
    (``shortlist-ballots.txt``, ``shortlist-tally.json``, with the shortlist and its size) and
    ``SHA256SUMS`` (for ``sha256sum -c``). Empty until the result is public (see
    :func:`capital.domain.publication.result_is_public`)."""
    result = latest_result(cycle)
    if result is None or not result_is_public(cycle.phase, cycle.announcement_dt, now):
        return {}
    files = _count_files(cycle, result, "")
    shortlisted = shortlist_result(cycle)
    if shortlisted is not None:
        files.update(_count_files(cycle, shortlisted, SHORTLIST_PREFIX))
    files["SHA256SUMS"] = checksums(files)
    return files


# The shortlist vote's files in the audit bundle are named like the final vote's, with this before.
SHORTLIST_PREFIX = "shortlist-"


def _count_files(cycle: Cycle, result: Result, prefix: str) -> dict[str, bytes]:
    """One counted vote's ballot file and its explanation, named with ``prefix``."""
    voting_round = db.session.get(VotingRound, result.round_id)
    names = dict(zip(result.tally["candidate_ids"], result.tally["candidates"], strict=True))
    data = {
        **result.tally,
        "cycle": cycle.year,
        **({"vote": "shortlist", "seats": cycle.shortlist_size,
            "shortlist": [names[n] for n in result.tally.get("shortlist_ids", [])]}
           if voting_round.is_shortlist else {"round": voting_round.number}),
        "roll": result.eligible_voters,
        "turnout": result.ballots_cast,
        "quorum": {"share": str(Decimal(cycle.quorum_share).normalize()),
                   "needed": quorum_needed(result.eligible_voters, cycle.quorum_share),
                   "met": result.is_quorum_met},
        "tie_break_seed": voting_round.tie_break_seed,
        "tie_break_order": [names[n] for n in voting_round.tie_break_order],
        "ballots_sha256": result.checksum,
        "recount": recount_command(result, voting_round, seats=cycle.shortlist_size if voting_round.is_shortlist
                                   else None),
    }
    return {f"{prefix}ballots.txt": result.ballot_file.encode(),
            f"{prefix}tally.json": (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode()}


def recount_command(result: Result, voting_round: VotingRound, *, seats: int | None = None) -> str:
    """The command that recounts the published ballot file of ``result`` as the server counted it
    (``seats``: the shortlist's size, for the shortlist vote's file)."""
    names = dict(zip(result.tally["candidate_ids"], result.tally["candidates"], strict=True))
    order = ",".join(names[n] for n in voting_round.tie_break_order)
    extra = ["--seats", str(seats)] if seats is not None else []
    file = f"{SHORTLIST_PREFIX if voting_round.is_shortlist else ''}ballots.txt"  # as audit_files names it
    return shlex.join(["python", "-m", "capital.voting", "--method", result.method, *extra, "--candidates", order,
                       "--tie-break", order, "--json", file])


def checksums(files: dict[str, bytes]) -> bytes:
    """A ``SHA256SUMS`` file of ``files`` (name -> content), for ``sha256sum -c``."""
    return "".join(f"{hashlib.sha256(content).hexdigest()}  {name}\n" for name, content in files.items()).encode()


def vote_cycle() -> Cycle | None:
    """The latest cycle that has held a vote (its current round is the one the board sees)."""
    return db.session.scalar(select(Cycle).join(VotingRound, VotingRound.cycle_id == Cycle.id)
                             .where(VotingRound.is_shortlist.is_(False)).order_by(Cycle.year.desc()).limit(1))


def shortlist_cycle() -> Cycle | None:
    """The latest cycle that has held a shortlist vote."""
    return db.session.scalar(select(Cycle).join(VotingRound, VotingRound.cycle_id == Cycle.id)
                             .where(VotingRound.is_shortlist.is_(True)).order_by(Cycle.year.desc()).limit(1))


def has_final_count(cycle: Cycle | None) -> bool:
    """Whether ``cycle`` is the one whose final vote's count ``/board/results`` shows (the latest
    cycle with a final vote) and a round of it is counted; the shortlist vote's count is not one."""
    return cycle is not None and cycle == vote_cycle() and latest_result(cycle) is not None


def has_shortlist_count(cycle: Cycle | None) -> bool:
    """Whether ``cycle`` is the one whose shortlist vote's count the board's page shows
    (the latest cycle with a shortlist vote) and that vote is counted."""
    return cycle is not None and cycle == shortlist_cycle() and shortlist_result(cycle) is not None
