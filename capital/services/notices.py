"""The mails of a cycle's timeline: the call for nominations, the reminders, the announcement.

Each is written in the transaction of the change that causes it (a phase change, a reminder
round recorded on the cycle), at most once per (cycle, kind, recipient, occasion), in each
recipient's language with the cycle's dates in their time zone. They are handed to the
sender as one task for the whole lot, not one task per mail.
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
from capital.models import City, Cycle, Nomination, RoleGrant, User
from capital.services.dispatch import after_commit
from capital.services.mail import absolute_url, queue_mail
from capital.services.mailings import create_mailing

# A city that has submitted (or whose nomination was already reviewed) needs no reminder.
_HAS_SUBMITTED = frozenset(ACTIVE_STATES | {NominationState.INELIGIBLE})


@dataclass(frozen=True)
class Recipient:
    email: str
    locale: str
    timezone: str
    city: City


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


def member_cities() -> list[City]:
    return list(db.session.scalars(select(City).where(City.status == CityStatus.MEMBER).order_by(City.id)))


def _dates(cycle: Cycle) -> list[tuple[str, datetime]]:
    """The cycle's deadlines, labelled, for the mails' list of dates."""
    return [(DEADLINE_LABELS[name], getattr(cycle, name)) for name in DEADLINE_FIELDS[1:]]


def _queue_for(recipients: list[Recipient], kind: str, subject: str, cycle: Cycle, now: datetime, *,
               occasion: str | None = None, context: dict | None = None) -> int:
    written = 0
    for recipient in recipients:
        mail = queue_mail(kind, recipient=recipient.email, locale=recipient.locale, timezone=recipient.timezone,
                          subject=subject, now=now, cycle_id=cycle.id, city_id=recipient.city.id, dedupe=occasion,
                          deliver_now=False,
                          context={"year": cycle.year, "city": recipient.city.name, "dates": _dates(cycle),
                                   **(context or {})})
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
