"""Who a group mail goes to: named recipients queries, read range by range (docs/mail.md).

An audience is a function of the mailing's ``params`` returning one SELECT whose rows are the
recipients, with these columns, by these labels:

``key``
    an integer the mailing is written in ranges of (a city's, a person's or a subscriber's
    id); every row of one key is written in the same range;
``email``, ``locale``, ``timezone``
    the address (lower-cased), a language of ``LOCALES`` and an IANA time zone;
``name``, ``city_id``, ``city_name``
    what the mail says to this recipient: their name ("" when the mail greets nobody by
    name), and the city the mail is about (None and "" when none);
``subscriber_id``
    a subscriber's id (their copy carries their one-click unsubscribe link), else None;
``variant``
    what else the text depends on ("" for most; a recusal, say), resolved to template
    values by the audience's ``variant_context``.

Register one with :func:`audience`; a mailing names it and :mod:`capital.services.mailings`
writes it. An address appears once per mailing (the outbox's unique key keeps the first).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Integer, Select, String, and_, case, cast, exists, func, literal, null, select, union_all
from sqlalchemy.orm import aliased

from capital.domain.localisation import LOCALES
from capital.domain.membership import CityStatus
from capital.domain.messages import N_
from capital.domain.nominations import ACTIVE_STATES, NominationState
from capital.domain.roles import Role
from capital.extensions import db
from capital.services.assessment import panel_condition
from capital.models import Assessment, City, Cycle, Nomination, Participation, Recusal, RoleGrant, Subscriber, User, VotingRound

COLUMNS = ("key", "email", "locale", "timezone", "name", "city_id", "city_name", "subscriber_id", "variant")


@dataclass(frozen=True)
class Audience:
    name: str
    query: Callable[[dict], Select]
    # Template values for a variant of this audience (called once per part rendered).
    variant_context: Callable[[str], dict]
    # Each copy carries its recipient's one-click unsubscribe link (RFC 8058).
    has_unsubscribe: bool = False


AUDIENCES: dict[str, Audience] = {}


def _no_variants(variant: str) -> dict:
    return {}


def audience(name: str, *, variant_context: Callable[[str], dict] = _no_variants, has_unsubscribe: bool = False):
    """Register the decorated ``query(params) -> Select`` as the audience ``name``."""
    def register(query):
        AUDIENCES[name] = Audience(name, query, variant_context, has_unsubscribe)
        return query
    return register


def known_locale(column):
    """``column`` where it is one of the seven languages, else English."""
    return case((column.in_(LOCALES), column), else_=literal("en", String))


def _value(value, kind):
    if value is None:
        return cast(null(), kind)
    if isinstance(value, str):
        return literal(value, String)
    return value


def _row(key, email, locale, timezone, name, city_id=None, city_name="", subscriber_id=None, variant=""):
    """The columns of one recipients SELECT, labelled as :data:`COLUMNS` (values or expressions)."""
    values = (key, email, known_locale(locale), _value(timezone, String), _value(name, String),
              _value(city_id, Integer), _value(city_name, String), _value(subscriber_id, Integer),
              _value(variant, String))
    return [value.label(label) for value, label in zip(values, COLUMNS, strict=True)]


# --- member cities ---------------------------------------------------------------------------------

_HAS_SUBMITTED = frozenset(ACTIVE_STATES | {NominationState.INELIGIBLE})


def _is_representative():
    return User.id.in_(select(RoleGrant.user_id).where(RoleGrant.role == Role.REPRESENTATIVE))


@audience("member_cities")
def member_cities(params: dict) -> Select:
    """Every member city in good standing: its active representatives, each in their mail
    language and time zone (else the city's), and its contact address, in its first
    representative's language and the city's zone. ``params["without_submission_in"]``: only
    the cities that have not submitted a nomination in that cycle (the reminders)."""
    cities = City.status == CityStatus.MEMBER
    if params.get("without_submission_in") is not None:
        cities = and_(cities, City.id.not_in(select(Nomination.nominating_city_id).where(
            Nomination.cycle_id == params["without_submission_in"], Nomination.state.in_(_HAS_SUBMITTED))))
    return _city_recipients(cities)


def _city_recipients(cities, variant="") -> Select:
    """The active representatives of the ``cities`` (a condition on City), each in their mail
    language and time zone (else the city's), and each city's contact address, in its first
    representative's language and the city's zone; ``variant`` an expression on City."""
    representative = and_(User.is_active_account.is_(True), _is_representative())
    people = select(*_row(City.id, func.lower(User.email), func.coalesce(User.mail_locale, User.locale),
                          func.coalesce(User.timezone, City.timezone), User.name, City.id, City.name,
                          variant=variant)
                    ).join(User, User.city_id == City.id).where(cities, representative)
    # Each city's first representative, found for all cities in one grouped read: a subquery per
    # city (ORDER BY id LIMIT 1) walks the people table once per city, quadratic at 5 000 cities.
    firsts = (select(User.city_id.label("city_id"), func.min(User.id).label("user_id"))
              .where(representative, User.city_id.is_not(None)).group_by(User.city_id).subquery("firsts"))
    first = aliased(User, name="first_representative")
    contact = func.lower(func.trim(City.contact_email))
    # An address that is also an active representative's gets that person's mail, once.
    someone = exists().where(User.email == contact, representative)
    contacts = (select(*_row(City.id, contact, func.coalesce(first.mail_locale, first.locale, "en"), City.timezone,
                             "", City.id, City.name, variant=variant))
                .outerjoin(firsts, firsts.c.city_id == City.id).outerjoin(first, first.id == firsts.c.user_id)
                .where(cities, ~someone))
    return union_all(people, contacts)


def _finalist_context(variant: str) -> dict:
    return {"is_finalist": variant == "finalist"}


@audience("nominating_cities", variant_context=_finalist_context)
def nominating_cities(params: dict) -> Select:
    """Every city that put a nomination forward in the cycle ``params["cycle_id"]`` (whatever its
    status since), its representatives and its contact; the variant "finalist" for a city one of
    whose nominations is among ``params["finalist_ids"]``, else ""."""
    put_forward = select(Nomination.nominating_city_id).where(
        Nomination.cycle_id == params["cycle_id"], Nomination.state.in_(_HAS_SUBMITTED))
    finalist = exists().where(Nomination.nominating_city_id == City.id,
                              Nomination.id.in_(params["finalist_ids"])).correlate(City)
    return _city_recipients(City.id.in_(put_forward), case((finalist, "finalist"), else_=""))


# --- people ------------------------------------------------------------------------------------------------

def _people(condition, variant="") -> Select:
    """Active accounts meeting ``condition``, greeted by name, in their mail language and time
    zone (else their city's, else UTC); the mail is theirs, not their city's."""
    return (select(*_row(User.id, func.lower(User.email), func.coalesce(User.mail_locale, User.locale),
                         func.coalesce(User.timezone, City.timezone, "UTC"), User.name, variant=variant))
            .outerjoin(City, City.id == User.city_id)
            .where(condition, User.is_active_account.is_(True)))


def _roll(round_id: int) -> list[int]:
    return list(db.session.get(VotingRound, round_id).roll)


AUTOMATIC_RECUSAL = N_("You are a representative of a nominating or host city.")


def _recusal_context(variant: str) -> dict:
    if not variant.startswith("recusal:"):
        return {}
    recusal = db.session.get(Recusal, int(variant.removeprefix("recusal:")))
    return {"recusal": recusal, "automatic_reason": AUTOMATIC_RECUSAL if recusal.is_automatic else None}


@audience("voting_open", variant_context=_recusal_context)
def voting_open(params: dict) -> Select:
    """The round's roll, and every board member who stands aside from the cycle (each told so,
    with their reason: one variant per recusal)."""
    voting_round = db.session.get(VotingRound, params["round_id"])
    recused = select(Recusal.user_id).where(Recusal.cycle_id == voting_round.cycle_id)
    recusal = (select(literal("recusal:", String) + cast(Recusal.id, String))
               .where(Recusal.cycle_id == voting_round.cycle_id, Recusal.user_id == User.id)
               .correlate(User).scalar_subquery())
    return _people(User.id.in_(voting_round.roll) | User.id.in_(recused), variant=func.coalesce(recusal, ""))


@audience("roll_not_voted")
def roll_not_voted(params: dict) -> Select:
    """The round's roll members without a participation (read from participations only, never
    the ballots)."""
    voted = select(Participation.user_id).where(Participation.round_id == params["round_id"])
    return _people(and_(User.id.in_(_roll(params["round_id"])), User.id.not_in(voted)))


@audience("roll_and_secretariat")
def roll_and_secretariat(params: dict) -> Select:
    """The round's roll and the secretariat (the result of a count)."""
    secretariat = select(RoleGrant.user_id).where(RoleGrant.role == Role.SECRETARIAT)
    return _people(User.id.in_(_roll(params["round_id"])) | User.id.in_(secretariat))


@audience("panel_not_submitted")
def panel_not_submitted(params: dict) -> Select:
    """The assessment panel on the reminder's day without a submitted assessment
    (capital.services.assessment.panel_condition)."""
    cycle = db.session.get(Cycle, params["cycle_id"])
    submitted = select(Assessment.assessor_id).where(Assessment.cycle_id == cycle.id,
                                                     Assessment.submitted_dt.is_not(None))
    return _people(and_(panel_condition(cycle, date.fromisoformat(params["day"])), User.id.not_in(submitted)))


# --- the public --------------------------------------------------------------------------------------------

@audience("subscribers", has_unsubscribe=True)
def subscribers(params: dict) -> Select:
    """Confirmed subscribers who have not unsubscribed, in the language they chose (dates in UTC)."""
    return (select(*_row(Subscriber.id, func.lower(Subscriber.email), Subscriber.locale, "UTC", "",
                         subscriber_id=Subscriber.id))
            .where(Subscriber.confirmed_dt.is_not(None), Subscriber.unsubscribed_dt.is_(None)))
