"""What the public site shows: year pages, the archive, receipts — always behind the embargo.

Every function takes ``now`` and asks :mod:`capital.domain.publication` whether a cycle's
result is public; nothing here returns a capital, a count or a ballot of a cycle whose
announcement time has not come.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from capital.domain.nominations import ACTIVE_STATES
from capital.domain.phase import Phase
from capital.domain.publication import (
    PUBLISHED_PHASES, SHORTLIST_PUBLISHED_PHASES, nominees_are_public, public_phase, result_is_public,
    shortlist_is_public, years_of,
)
from capital.extensions import db
from capital.models import Ballot, City, Cycle, Nomination, Result, VotingRound
from capital.services import voting


def is_result_public(cycle: Cycle, now: datetime) -> bool:
    """The one question every public surface asks before showing anything of a cycle's vote."""
    return result_is_public(cycle.phase, cycle.announcement_dt, now)


def shown_phase(cycle: Cycle, now: datetime) -> Phase:
    """The phase every public surface shows of ``cycle`` at ``now`` (no capital is embargoed too)."""
    if cycle.phase != Phase.NO_CAPITAL:
        return cycle.phase  # the usual case, without a query
    has_vote = db.session.scalar(select(VotingRound.id).where(VotingRound.cycle_id == cycle.id).limit(1)) is not None
    return public_phase(cycle.phase, cycle.announcement_dt, now, has_vote=has_vote)


def no_capital_reason(cycle: Cycle, now: datetime) -> str | None:
    """Why ``cycle`` has no capital, once that is public (a key of NO_CAPITAL_REASONS), else None."""
    return cycle.no_capital_reason if is_result_public(cycle, now) else None


def cycle_for_year(year: int) -> Cycle | None:
    """The cycle whose capital hosts 16 May of ``year`` (a biennial cycle covers two years)."""
    return db.session.scalar(
        select(Cycle).options(selectinload(Cycle.capital_city))
        .where(or_(Cycle.year == year, (Cycle.year == year - 1) & Cycle.is_biennial))
        .order_by(Cycle.year.desc()).limit(1)
    )


def public_nominees_query(cycle: Cycle) -> Select:
    """The cycle's standing nominations (submitted or eligible), by title."""
    return (select(Nomination)
            .options(selectinload(Nomination.host_city), selectinload(Nomination.nominating_city))
            .where(Nomination.cycle_id == cycle.id, Nomination.state.in_(ACTIVE_STATES))
            .order_by(Nomination.title, Nomination.id))


def public_finalists(cycle: Cycle, now: datetime) -> set[int]:
    """The finalists' nomination ids, once the shortlist is public (empty before, and without one)."""
    if not shortlist_is_public(cycle, now):
        return set()
    return set(voting.finalists(cycle) or ())


def public_shortlists(now: datetime) -> list[tuple[Cycle, list[str]]]:
    """Every published shortlist, latest first: its cycle and its finalists' host cities, in the shortlist's order."""
    cycles = db.session.scalars(select(Cycle).where(
        Cycle.shortlist_size > 0, Cycle.shortlist_publication_dt <= now, Cycle.phase.in_(SHORTLIST_PUBLISHED_PHASES))
        .order_by(Cycle.shortlist_publication_dt.desc())).all()
    shown = []
    for cycle in cycles:
        ids = voting.finalists(cycle) or []
        names = dict(db.session.execute(select(Nomination.id, City.name).join(City, City.id == Nomination.host_city_id)
                                        .where(Nomination.id.in_(ids))).all())
        if ids:
            shown.append((cycle, [names[n] for n in ids]))
    return shown


def public_nominees(cycle: Cycle) -> list[Nomination]:
    """The cycle's standing nominations, once nominations have closed; otherwise none."""
    if not nominees_are_public(cycle.phase):
        return []
    return list(db.session.scalars(public_nominees_query(cycle)))


def public_capital(cycle: Cycle, now: datetime) -> City | None:
    """The cycle's capital, once its result is public."""
    return cycle.capital_city if is_result_public(cycle, now) else None


def public_results(cycle: Cycle, now: datetime) -> list[Result]:
    """Every counted round of the cycle's final vote, first round first, once the result is public."""
    if not is_result_public(cycle, now):
        return []
    return list(db.session.scalars(
        select(Result).join(VotingRound, Result.round_id == VotingRound.id)
        .options(selectinload(Result.round))
        .where(VotingRound.cycle_id == cycle.id, VotingRound.is_shortlist.is_(False)).order_by(VotingRound.number)
    ))


def capital_nomination(cycle: Cycle, now: datetime) -> Nomination | None:
    """The nomination that made the capital (its dossier holds the 16 May programme)."""
    capital = public_capital(cycle, now)
    if capital is None:
        return None
    return db.session.scalar(
        select(Nomination).options(selectinload(Nomination.texts))
        .where(Nomination.cycle_id == cycle.id, Nomination.host_city_id == capital.id,
               Nomination.state.in_(ACTIVE_STATES))
        .order_by(Nomination.id).limit(1)
    )


def programme_text(nomination: Nomination | None, locale: str, default_locale: str = "en"):
    """The dossier text in ``locale`` when the city wrote one, else in English, else the first."""
    if nomination is None or not nomination.texts:
        return None
    by_locale = {text.locale: text for text in nomination.texts}
    return by_locale.get(locale) or by_locale.get(default_locale) or nomination.texts[0]


@dataclass(frozen=True)
class Capital:
    """One entry of the archive: a city and the years it was the capital of."""

    cycle: Cycle
    city: City
    years: tuple[int, ...]


def public_result_clause(now: datetime):
    """:func:`is_result_public` as an SQL condition on cycles, to list and page in the database.

    tests/services/test_public.py checks that both answer alike in every case.
    """
    return Cycle.phase.in_(PUBLISHED_PHASES) & (Cycle.announcement_dt.is_(None) | (Cycle.announcement_dt <= now))


def public_capitals_query(now: datetime) -> Select:
    """The cycles whose capital is public, latest first."""
    return (select(Cycle).options(selectinload(Cycle.capital_city))
            .where(public_result_clause(now), Cycle.capital_city_id.is_not(None))
            .order_by(Cycle.year.desc()))


def as_capital(cycle: Cycle, now: datetime) -> Capital | None:
    """The archive entry of ``cycle``, or None while its result is not public."""
    if not is_result_public(cycle, now) or cycle.capital_city is None:
        return None
    return Capital(cycle, cycle.capital_city, years_of(cycle.year, cycle.is_biennial))


def public_capitals(now: datetime) -> list[Capital]:
    """Every capital whose announcement is public, latest first."""
    return [capital for cycle in db.session.scalars(public_capitals_query(now))
            if (capital := as_capital(cycle, now)) is not None]


_RECEIPT_CHARACTERS = re.compile(r"[^0-9A-Z]")


def normalize_receipt(code: str) -> str:
    """A receipt code as typed (any case, spaces, with or without dashes) in its printed form."""
    plain = _RECEIPT_CHARACTERS.sub("", code.upper())
    return "-".join(plain[i:i + 4] for i in range(0, len(plain), 4))


@dataclass(frozen=True)
class CountedBallot:
    """A ballot as the count read it: preference groups of city names, best first; a shortlist
    ballot (``is_shortlist``, its round number 0) is one group, its approvals, and ``unranked``
    the nominations it did not approve."""

    receipt_code: str
    round_number: int
    ranking: list[list[str]]
    unranked: list[str] = field(default_factory=list)
    is_shortlist: bool = False


def find_ballot(cycle: Cycle, code: str, now: datetime) -> CountedBallot | None:
    """The published ballot carrying receipt ``code``; None before the announcement or if unknown."""
    code = normalize_receipt(code)
    if not code or not is_result_public(cycle, now):
        return None
    row = db.session.execute(
        select(Ballot, VotingRound.number, VotingRound.is_shortlist)
        .join(VotingRound, Ballot.round_id == VotingRound.id)
        .where(VotingRound.cycle_id == cycle.id, Ballot.receipt_code == code)
    ).first()
    if row is None:
        return None
    ballot, number, is_shortlist = row
    result = db.session.scalar(select(Result).where(Result.round_id == ballot.round_id))
    names = _candidate_names(cycle, result)
    ranked = {n for group in ballot.ranking for n in group}
    return CountedBallot(
        receipt_code=ballot.receipt_code, round_number=number,
        ranking=[[names.get(n, str(n)) for n in group] for group in ballot.ranking],
        unranked=[name for n, name in names.items() if n not in ranked], is_shortlist=is_shortlist,
    )


def _candidate_names(cycle: Cycle, result: Result | None) -> dict[int, str]:
    """Nomination id -> the name the count used (as on the chart), else the host city's name."""
    tally = result.tally if result is not None else {}
    if "candidate_ids" in tally:
        return dict(zip(tally["candidate_ids"], tally["candidates"], strict=True))
    return dict(db.session.execute(
        select(Nomination.id, City.name).join(City, Nomination.host_city_id == City.id)
        .where(Nomination.cycle_id == cycle.id, Nomination.state.in_(ACTIVE_STATES))
        .order_by(City.name_latin, Nomination.id)
    ).all())


def running_cycle() -> Cycle | None:
    """The next cycle still under way (not announced, cancelled or without capital)."""
    return db.session.scalar(
        select(Cycle).where(Cycle.phase.not_in([Phase.ANNOUNCED, Phase.CANCELLED, Phase.NO_CAPITAL]))
        .order_by(Cycle.year).limit(1)
    )


def calendar_cycle() -> Cycle | None:
    """The cycle a public calendar follows: the next one still under way, else the latest."""
    return running_cycle() or db.session.scalar(select(Cycle).order_by(Cycle.year.desc()).limit(1))


def next_embargo_end(now: datetime) -> datetime | None:
    """The first announcement or shortlist publication after ``now``: public pages may change on their own then."""
    moments = [db.session.scalar(select(func.min(column)).where(column > now))
               for column in (Cycle.announcement_dt, Cycle.shortlist_publication_dt)]
    return min((moment for moment in moments if moment is not None), default=None)
