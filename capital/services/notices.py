"""The mails of a cycle's timeline: the call for nominations, the reminders, the vote, the announcement.

Each is a group mail (:mod:`capital.services.mailings`): the transaction of the change that
causes it (a phase change, a reminder round recorded on the cycle) records what goes to which
audience, at most once per (cycle, kind, occasion); a task writes the mails in ranges after
the commit, each in its recipient's language with the cycle's dates in their time zone, at
most once per (cycle, kind, recipient, occasion).

The vote's mails — the final vote's and the shortlist vote's alike — keep its secrecy: they
are recorded when voting opens, on reminder days and at the count, never when someone casts a
ballot, and every mail of one mailing carries the mailing's time, whenever its range was
written; a reminder goes to the roll members without a participation and says nothing about
anyone else; the result carries counts, never a receipt or who voted what.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import select

from capital.domain.messages import N_
from capital.domain.phase import VOTE_PHASES, Phase, vote_phase
from capital.domain.timeline import DEADLINE_LABELS, timeline_fields
from capital.extensions import db
from capital.models import City, Cycle, Mailing, Nomination, Result, VotingRound
from capital.services import reports, voting
from capital.services.mail import absolute_url
from capital.services.mailings import queue_group_mail

# Days before the voting deadline on which roll members who have not voted are reminded.
VOTE_REMINDER_DAYS = (3, 1)


def _dates(cycle: Cycle) -> list[tuple[str, datetime]]:
    """The cycle's deadlines, labelled, for the mails' list of dates."""
    return [(DEADLINE_LABELS[name], getattr(cycle, name)) for name in timeline_fields(cycle)[1:]]


def _queue(kind: str, audience: str, subject: str, cycle: Cycle, now: datetime, *, context: dict,
           params: dict | None = None, occasion: str | None = None, follows: Mailing | None = None) -> Mailing | None:
    return queue_group_mail(kind, audience, subject=subject, now=now, cycle_id=cycle.id, params=params,
                            occasion=occasion, follows=follows,
                            context={"year": cycle.year, "dates": _dates(cycle), **context})


def queue_call_for_nominations(cycle: Cycle, now: datetime) -> Mailing | None:
    """The call for nominations to every member city in good standing (None if already recorded)."""
    return _queue("call_for_nominations", "member_cities",
                  N_("Call for nominations: Capital of Living Together %(year)s"), cycle, now,
                  context={"deadline": cycle.nominations_close_dt, "link": absolute_url("nominations.dashboard")})


def due_reminder_day(cycle: Cycle, now: datetime) -> int | None:
    """The reminder round due at ``now``: the nearest configured day count whose moment has come
    while nominations were open (a round missed during an outage is not sent late)."""
    if cycle.phase != Phase.NOMINATIONS_OPEN or cycle.nominations_close_dt is None or now >= cycle.nominations_close_dt:
        return None
    due = [days for days in cycle.nomination_reminder_days
           if cycle.phase_changed_dt <= cycle.nominations_close_dt - timedelta(days=days) <= now]
    return min(due) if due else None


def queue_due_nomination_reminders(now: datetime) -> int:
    """Tick step: remind member cities that have not submitted, once per configured round; the
    number of rounds recorded.

    The cycle's row is locked (another tick skips it) and the round is recorded on it in the
    same transaction as its mailing.
    """
    recorded = 0
    ids = db.session.scalars(select(Cycle.id).where(Cycle.phase == Phase.NOMINATIONS_OPEN)).all()
    for cycle_id in ids:
        cycle = db.session.get(Cycle, cycle_id, with_for_update={"skip_locked": True}, populate_existing=True)
        if cycle is None:
            continue
        days = due_reminder_day(cycle, now)
        if days is None or days in cycle.nomination_reminders_done:
            continue
        mailing = _queue("nomination_reminder", "member_cities",
                         N_("Reminder: nominations for the Capital of Living Together %(year)s close soon"),
                         cycle, now, occasion=f"{days}d", params={"without_submission_in": cycle.id},
                         context={"deadline": cycle.nominations_close_dt,
                                  "link": absolute_url("nominations.dashboard")})
        recorded += mailing is not None
        cycle.nomination_reminders_done = [*cycle.nomination_reminders_done, days]
        db.session.flush()
    return recorded


# --- the assessment ------------------------------------------------------------------------------

# Days before the assessment deadline on which panel members who have not submitted are reminded.
ASSESSMENT_REMINDER_DAYS = (3, 1)


def due_assessment_reminder_day(cycle: Cycle, now: datetime) -> int | None:
    """The assessment reminder round due at ``now``: the nearest of ASSESSMENT_REMINDER_DAYS whose
    moment has come while assessment was open (a round missed during an outage is not sent late)."""
    closes = cycle.assessment_close_dt
    if cycle.phase != Phase.ASSESSMENT or closes is None or now >= closes:
        return None
    due = [days for days in ASSESSMENT_REMINDER_DAYS if cycle.phase_changed_dt <= closes - timedelta(days=days) <= now]
    return min(due) if due else None


def queue_due_assessment_reminders(now: datetime) -> int:
    """Tick step: remind the panel members who have not submitted their assessment, once per
    reminder day, each in their mail language; the number of rounds recorded. The panel is
    counted on the reminder's day; the mailing's key (cycle, kind, day) keeps each round single."""
    recorded = 0
    for cycle_id in db.session.scalars(select(Cycle.id).where(Cycle.phase == Phase.ASSESSMENT)).all():
        cycle = db.session.get(Cycle, cycle_id, with_for_update={"read": True}, populate_existing=True)
        days = due_assessment_reminder_day(cycle, now)
        if days is None:
            continue
        mailing = _queue("assessment_reminder", "panel_not_submitted",
                         N_("Reminder: your assessment for the Capital of Living Together %(year)s is due"),
                         cycle, now, occasion=f"{days}d", params={"cycle_id": cycle.id, "day": now.date().isoformat()},
                         context={"deadline": cycle.assessment_close_dt, "link": absolute_url("assessment.dashboard")})
        recorded += mailing is not None
    return recorded


# --- the board vote ------------------------------------------------------------------------------

class _VoteMails(NamedTuple):
    """The mails of one vote: the kinds and subjects of its voting-open mail and of its reminders,
    and the page of its ballot."""

    opening: str
    opening_subject: str
    reminder: str
    reminder_subject: str
    ballot_page: str


# By whether the round is the shortlist vote.
_VOTE_MAILS = {
    False: _VoteMails("voting_open", N_("Voting is open: Capital of Living Together %(year)s"),
                      "vote_reminder", N_("Reminder: you have not voted yet for the Capital of Living Together %(year)s"),
                      "board.ballot"),
    True: _VoteMails("shortlist_voting_open",
                     N_("The shortlist vote is open: Capital of Living Together %(year)s"), "shortlist_reminder",
                     N_("Reminder: you have not voted yet in the shortlist vote for the Capital of Living Together "
                        "%(year)s"), "board.shortlist_ballot"),
}


def _round_context(cycle: Cycle, voting_round: VotingRound) -> dict:
    names = voting.nomination_names(voting.ballot_nominations(voting_round))
    return {"round": voting_round.number, "deadline": voting_round.closes_dt,
            "tie_break": [names[n] for n in voting_round.tie_break_order],
            "link": absolute_url(_VOTE_MAILS[voting_round.is_shortlist].ballot_page),
            **({"size": cycle.shortlist_size} if voting_round.is_shortlist else {})}


def queue_voting_open_mail(cycle: Cycle, voting_round: VotingRound, now: datetime) -> Mailing | None:
    """Voting opens (the final vote's round, or the shortlist vote): each roll member gets the ballot
    link, the deadline and the tie-break order (and the shortlist's size); each board member who stands
    aside from this cycle is told so, with the reason. Call it in the transaction that opens the round."""
    mails = _VOTE_MAILS[voting_round.is_shortlist]
    return _queue(mails.opening, "voting_open", mails.opening_subject, cycle, now,
                  occasion=f"r{voting_round.number}", params={"round_id": voting_round.id},
                  context=_round_context(cycle, voting_round))


def due_vote_reminder_day(cycle: Cycle, voting_round: VotingRound | None, now: datetime) -> int | None:
    """The vote reminder round due at ``now``: the nearest of VOTE_REMINDER_DAYS whose moment has
    come while the round (of the final vote, or the shortlist vote) was open (a round missed during
    an outage is not sent late)."""
    if (voting_round is None or cycle.phase != vote_phase(shortlist=voting_round.is_shortlist)
            or voting_round.closed_dt is not None or now >= voting_round.closes_dt):
        return None
    due = [days for days in VOTE_REMINDER_DAYS
           if voting_round.opens_dt <= voting_round.closes_dt - timedelta(days=days) <= now]
    return min(due) if due else None


def queue_due_vote_reminders(now: datetime) -> int:
    """Tick step: remind the roll members who have not voted in the open round of the final vote
    or in the open shortlist vote, once per reminder day; the number of rounds recorded.

    Who is reminded is read from the participations only (never the ballots), and the mailing's
    key (cycle, kind, round and day) keeps each reminder single. The cycle is read under a
    shared lock, so a round being closed is waited for, not reminded about.
    """
    recorded = 0
    ids = db.session.scalars(select(Cycle.id).where(Cycle.phase.in_(VOTE_PHASES))).all()
    for cycle_id in ids:
        cycle = db.session.get(Cycle, cycle_id, with_for_update={"read": True}, populate_existing=True)
        voting_round = voting.current_round(cycle, shortlist=cycle.phase.is_shortlist_voting_open)
        days = due_vote_reminder_day(cycle, voting_round, now)
        if days is None:
            continue
        mails = _VOTE_MAILS[voting_round.is_shortlist]
        mailing = _queue(mails.reminder, "roll_not_voted", mails.reminder_subject, cycle, now,
                         occasion=f"r{voting_round.number}:{days}d", params={"round_id": voting_round.id},
                         context=_round_context(cycle, voting_round))
        recorded += mailing is not None
    return recorded


def queue_result_mail(cycle: Cycle, result: Result, now: datetime) -> Mailing | None:
    """The count of a round to its roll and to the secretariat, in the transaction that stores it:
    turnout, quorum and the city designated (or none), not public until the announcement."""
    voting_round = db.session.get(VotingRound, result.round_id)
    # Without the quorum the count's leader is designated by nobody (another round, or no capital).
    designates = result.is_quorum_met and result.winner_nomination_id is not None
    winner = db.session.get(Nomination, result.winner_nomination_id) if designates else None
    return _queue("vote_result", "roll_and_secretariat",
                  N_("Result of the board vote: Capital of Living Together %(year)s"), cycle, now,
                  occasion=f"r{voting_round.number}", params={"round_id": voting_round.id},
                  context={"round": voting_round.number, "cast": result.ballots_cast,
                           "roll": result.eligible_voters, "quorum_met": result.is_quorum_met,
                           "winner": winner.host_city.name if winner else None,
                           "announcement": cycle.announcement_dt, "link": absolute_url("board.results")})


def _host_names(nomination_ids: list[int]) -> dict[int, str]:
    """The host city's name of each of ``nomination_ids``."""
    return dict(db.session.execute(select(Nomination.id, City.name).join(City, City.id == Nomination.host_city_id)
                                   .where(Nomination.id.in_(nomination_ids))).all())


def queue_shortlist_result_mail(cycle: Cycle, result: Result, now: datetime) -> Mailing | None:
    """The count of the shortlist vote to its roll and to the secretariat, in the transaction that
    stores it: turnout, quorum and the finalists (none without the quorum), not public until the
    shortlist's publication. Its own kind, and the shortlist round's number (0) as its occasion, so it
    never meets the final vote's result mail (rounds 1, 2…)."""
    finalists = voting.finalists(cycle) or []
    names = _host_names(finalists)
    return _queue("shortlist_result", "roll_and_secretariat",
                  N_("Count of the shortlist vote: Capital of Living Together %(year)s"), cycle, now,
                  occasion="r0", params={"round_id": result.round_id},
                  context={"cast": result.ballots_cast, "roll": result.eligible_voters,
                           "quorum_met": result.is_quorum_met, "size": cycle.shortlist_size,
                           "finalists": [names[n] for n in finalists], "publication": cycle.shortlist_publication_dt,
                           "link": absolute_url("board.shortlist_results")})


def queue_shortlist_mail(cycle: Cycle, finalist_ids: list[int], now: datetime) -> Mailing | None:
    """To every city that put a nomination forward: the published shortlist, and whether it is a
    finalist (with the opening of the final vote), each in its mail language. Call it in
    the transaction that publishes the shortlist; None when it was already recorded."""
    names = _host_names(finalist_ids)
    context = {"finalists": [names[n] for n in finalist_ids], "voting_opens": cycle.voting_open_dt,
               "link": absolute_url("public.year_page", year=cycle.year)}
    return _queue("shortlist", "nominating_cities", N_("The shortlist of the Capital of Living Together %(year)s"),
                  cycle, now, context=context, params={"cycle_id": cycle.id, "finalist_ids": list(finalist_ids)})


def queue_announcement_mail(cycle: Cycle, now: datetime) -> list[Mailing]:
    """The announcement of ``cycle``'s capital to every member city, then to the confirmed subscribers.

    Call it in the transaction that announces the cycle: it records two mailings (none when the
    announcement was already mailed), written after the commit in ranges; the subscribers' copies
    are written once the cities' are, so a city's contact who also subscribed gets the city's.
    """
    if cycle.capital_city is None:
        raise ValueError("an announcement names its capital: set cycle.capital_city first")
    # The jury report as it stands at the announcement, each recipient reading their language's.
    report = reports.report_of(cycle)
    context = {"capital": cycle.capital_city.name, "announced": cycle.announcement_dt,
               "link": absolute_url("public.year_page", year=cycle.year),
               "citations": reports.public_citations(cycle, now), "reasons": reports.public_reasons(cycle, now),
               "first_language": report.first_locale if report else None}
    subject = N_("The Capital of Living Together %(year)s is %(capital)s")
    cities = _queue("announcement", "member_cities", subject, cycle, now, context=context)
    if cities is None:
        return []
    return [cities, _queue("announcement", "subscribers", subject, cycle, now, context=context, follows=cities)]
