"""The mails of a cycle's timeline: the call for nominations, the reminders, the vote, the announcement.

Each is written in the transaction of the change that causes it (a phase change, a reminder
round recorded on the cycle), at most once per (cycle, kind, recipient, occasion), in each
recipient's language with the cycle's dates in their time zone. They are handed to the
sender as one task for the whole lot, not one task per mail.

The vote's mails keep its secrecy: they are written when voting opens, on reminder days and
at the count, never when someone casts a ballot; a reminder goes to the roll members without
a participation and says nothing about anyone else; the result carries counts, never a
receipt or who voted what.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from capital.domain.membership import CityStatus
from capital.domain.messages import N_
from capital.domain.nominations import ACTIVE_STATES, NominationState
from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.domain.timeline import DEADLINE_FIELDS, DEADLINE_LABELS
from capital.extensions import db
from capital.models import City, Cycle, Nomination, Participation, Recusal, Result, RoleGrant, User, VotingRound
from capital.services import voting
from capital.services.dispatch import after_commit
from capital.services.mail import absolute_url, queue_mail
from capital.services.mailings import create_mailing

# A city that has submitted (or whose nomination was already reviewed) needs no reminder.
_HAS_SUBMITTED = frozenset(ACTIVE_STATES | {NominationState.INELIGIBLE})
# Days before the voting deadline on which roll members who have not voted are reminded.
VOTE_REMINDER_DAYS = (3, 1)


@dataclass(frozen=True)
class Recipient:
    email: str
    locale: str
    timezone: str
    city: City | None


def city_recipients(cities: list[City]) -> list[Recipient]:
    """Each city's active representatives (in their language and time zone) and its contact address
    (in its first representative's language, the city's time zone), in two queries."""
    by_id = {city.id: city for city in cities}
    people = db.session.execute(
        select(User).join(RoleGrant, RoleGrant.user_id == User.id)
        .where(User.city_id.in_(by_id), User.is_active_account.is_(True), RoleGrant.role == Role.REPRESENTATIVE)
        .order_by(User.id)
    ).scalars().all()
    found: dict[str, Recipient] = {}
    first_locale: dict[int, str] = {}
    for person in people:
        city = by_id[person.city_id]
        locale = person.locale or "en"
        first_locale.setdefault(city.id, locale)
        found.setdefault(person.email.lower(), Recipient(person.email.lower(), locale,
                                                         person.timezone or city.timezone, city))
    for city in cities:
        email = city.contact_email.strip().lower()
        found.setdefault(email, Recipient(email, first_locale.get(city.id, "en"), city.timezone, city))
    return list(found.values())


def user_recipients(users: list[User]) -> list[Recipient]:
    """Each active account in its mail language and its time zone (else its city's, else UTC)."""
    found: dict[str, Recipient] = {}
    for user in users:
        if user.is_active_account:
            timezone = user.timezone or (user.city.timezone if user.city else "UTC")
            found.setdefault(user.email.lower(), Recipient(user.email.lower(), user.mail_language, timezone, user.city))
    return list(found.values())


def _users(ids) -> list[User]:
    return list(db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.id)))


def member_cities() -> list[City]:
    return list(db.session.scalars(select(City).where(City.status == CityStatus.MEMBER).order_by(City.id)))


def _dates(cycle: Cycle) -> list[tuple[str, datetime]]:
    """The cycle's deadlines, labelled, for the mails' list of dates."""
    return [(DEADLINE_LABELS[name], getattr(cycle, name)) for name in DEADLINE_FIELDS[1:]]


def _queue_for(recipients: list[Recipient], kind: str, subject: str, cycle: Cycle, now: datetime, *,
               occasion: str | None = None, context: dict | None = None,
               own: dict[str, dict] | None = None) -> int:
    """Write one mail per recipient; ``own`` adds to the context of some (by address)."""
    written = 0
    for recipient in recipients:
        mail = queue_mail(kind, recipient=recipient.email, locale=recipient.locale, timezone=recipient.timezone,
                          subject=subject, now=now, cycle_id=cycle.id, dedupe=occasion, deliver_now=False,
                          city_id=recipient.city.id if recipient.city else None,
                          context={"year": cycle.year, "city": recipient.city.name if recipient.city else "",
                                   "dates": _dates(cycle),
                                   **(context or {}), **(own or {}).get(recipient.email, {})})
        written += mail is not None
    if written:
        from capital.tasks.mail import send_due  # here: the task module builds on this one

        after_commit(send_due, now.isoformat())
    return written


def queue_call_for_nominations(cycle: Cycle, now: datetime) -> int:
    """The call for nominations to every member city in good standing; the number of mails written."""
    return _queue_for(city_recipients(member_cities()), "call_for_nominations",
                      N_("Call for nominations: Capital of Living Together %(year)s"), cycle, now,
                      context={"deadline": cycle.nominations_close_dt,
                               "link": absolute_url("nominations.dashboard")})


def due_reminder_day(cycle: Cycle, now: datetime) -> int | None:
    """The reminder round due at ``now``: the nearest configured day count whose moment has come
    while nominations were open (a round missed during an outage is not sent late)."""
    if cycle.phase != Phase.NOMINATIONS_OPEN or cycle.nominations_close_dt is None or now >= cycle.nominations_close_dt:
        return None
    due = [days for days in cycle.nomination_reminder_days
           if cycle.phase_changed_dt <= cycle.nominations_close_dt - timedelta(days=days) <= now]
    return min(due) if due else None


def queue_due_nomination_reminders(now: datetime) -> int:
    """Tick step: remind member cities that have not submitted, once per configured round.

    The cycle's row is locked (another tick skips it) and the round is recorded on it in the
    same transaction as its mails.
    """
    written = 0
    ids = db.session.scalars(select(Cycle.id).where(Cycle.phase == Phase.NOMINATIONS_OPEN)).all()
    for cycle_id in ids:
        cycle = db.session.get(Cycle, cycle_id, with_for_update={"skip_locked": True}, populate_existing=True)
        if cycle is None:
            continue
        days = due_reminder_day(cycle, now)
        if days is None or days in cycle.nomination_reminders_done:
            continue
        submitted = select(Nomination.nominating_city_id).where(
            Nomination.cycle_id == cycle.id, Nomination.state.in_(_HAS_SUBMITTED))
        cities = list(db.session.scalars(
            select(City).where(City.status == CityStatus.MEMBER, City.id.not_in(submitted)).order_by(City.id)))
        written += _queue_for(city_recipients(cities), "nomination_reminder",
                              N_("Reminder: nominations for the Capital of Living Together %(year)s close soon"),
                              cycle, now, occasion=f"{days}d",
                              context={"deadline": cycle.nominations_close_dt,
                                       "link": absolute_url("nominations.dashboard")})
        cycle.nomination_reminders_done = [*cycle.nomination_reminders_done, days]
        db.session.flush()
    return written


# --- the board vote ------------------------------------------------------------------------------

AUTOMATIC_RECUSAL = N_("You are a representative of a nominating or host city.")


def _round_context(voting_round: VotingRound) -> dict:
    names = voting.nomination_names(voting.ballot_nominations(voting_round))
    return {"round": voting_round.number, "deadline": voting_round.closes_dt,
            "tie_break": [names[n] for n in voting_round.tie_break_order]}


def queue_voting_open_mail(cycle: Cycle, voting_round: VotingRound, now: datetime) -> int:
    """Voting opens: each roll member gets the ballot link, the deadline and the tie-break order;
    each board member who stands aside from this cycle is told so, with the reason. Call it in
    the transaction that opens the round; the number of mails written."""
    subject = N_("Voting is open: Capital of Living Together %(year)s")
    context = {**_round_context(voting_round), "link": absolute_url("board.ballot")}
    recusals = {r.user_id: r for r in db.session.scalars(select(Recusal).where(Recusal.cycle_id == cycle.id))}
    people = _users({*voting_round.roll, *recusals})
    own = {person.email.lower(): {"recusal": recusals[person.id],
                                  "automatic_reason": AUTOMATIC_RECUSAL if recusals[person.id].is_automatic else None}
           for person in people if person.id in recusals}
    return _queue_for(user_recipients(people), "voting_open", subject, cycle, now,
                      occasion=f"r{voting_round.number}", context=context, own=own)


def due_vote_reminder_day(cycle: Cycle, voting_round: VotingRound | None, now: datetime) -> int | None:
    """The vote reminder round due at ``now``: the nearest of VOTE_REMINDER_DAYS whose moment has
    come while the round was open (a round missed during an outage is not sent late)."""
    if (cycle.phase != Phase.VOTING_OPEN or voting_round is None or voting_round.closed_dt is not None
            or now >= voting_round.closes_dt):
        return None
    due = [days for days in VOTE_REMINDER_DAYS
           if voting_round.opens_dt <= voting_round.closes_dt - timedelta(days=days) <= now]
    return min(due) if due else None


def queue_due_vote_reminders(now: datetime) -> int:
    """Tick step: remind the roll members who have not voted in the open round, once per reminder day.

    Who is reminded is read from the participations only (never the ballots), and the outbox's
    key (cycle, kind, recipient, round and day) keeps each reminder single. The cycle is read
    under a shared lock, so a round being closed is waited for, not reminded about.
    """
    written = 0
    ids = db.session.scalars(select(Cycle.id).where(Cycle.phase == Phase.VOTING_OPEN)).all()
    for cycle_id in ids:
        cycle = db.session.get(Cycle, cycle_id, with_for_update={"read": True}, populate_existing=True)
        voting_round = voting.current_round(cycle)
        days = due_vote_reminder_day(cycle, voting_round, now)
        if days is None:
            continue
        voted = select(Participation.user_id).where(Participation.round_id == voting_round.id)
        waiting = db.session.scalars(select(User.id).where(User.id.in_(voting_round.roll), User.id.not_in(voted)))
        written += _queue_for(user_recipients(_users(waiting.all())), "vote_reminder",
                              N_("Reminder: you have not voted yet for the Capital of Living Together %(year)s"),
                              cycle, now, occasion=f"r{voting_round.number}:{days}d",
                              context={**_round_context(voting_round), "link": absolute_url("board.ballot")})
    return written


def queue_result_mail(cycle: Cycle, result: Result, now: datetime) -> int:
    """The count of a round to its roll and to the secretariat, in the transaction that stores it:
    turnout, quorum and the city designated (or none), not public until the announcement."""
    voting_round = db.session.get(VotingRound, result.round_id)
    secretariat = db.session.scalars(select(RoleGrant.user_id).where(RoleGrant.role == Role.SECRETARIAT)).all()
    # Without the quorum the count's leader is designated by nobody (another round, or no capital).
    designates = result.is_quorum_met and result.winner_nomination_id is not None
    winner = db.session.get(Nomination, result.winner_nomination_id) if designates else None
    return _queue_for(user_recipients(_users({*voting_round.roll, *secretariat})), "vote_result",
                      N_("Result of the board vote: Capital of Living Together %(year)s"), cycle, now,
                      occasion=f"r{voting_round.number}",
                      context={"round": voting_round.number, "cast": result.ballots_cast,
                               "roll": result.eligible_voters, "quorum_met": result.is_quorum_met,
                               "winner": winner.host_city.name if winner else None,
                               "announcement": cycle.announcement_dt, "link": absolute_url("board.results")})


def queue_announcement_mail(cycle: Cycle, now: datetime) -> int:
    """The announcement of ``cycle``'s capital to every member city and to the confirmed subscribers.

    Call it in the transaction that announces the cycle. City mails are written at once;
    subscribers' mail is a mailing written in ranges by its own task. Returns the number of
    city mails written (zero when the announcement was already mailed).
    """
    if cycle.capital_city is None:
        raise ValueError("an announcement names its capital: set cycle.capital_city first")
    context = {"capital": cycle.capital_city.name, "link": absolute_url("public.year_page", year=cycle.year), "year": cycle.year}
    subject = N_("The Capital of Living Together %(year)s is %(capital)s")
    written = _queue_for(city_recipients(member_cities()), "announcement", subject, cycle, now, context=context)
    create_mailing("announcement", subject=subject, context=context, cycle_id=cycle.id, now=now)
    return written
