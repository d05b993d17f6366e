"""What the public may see of a cycle, and from when (docs/public.md).

Every public surface — the year page, the archive, the feed, the calendar, the API, the
exhibition export — asks these questions and nothing else, so that an embargo holds
whatever URL is tried.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from capital.domain.phase import Phase


# The phases whose vote is published: announced, and no capital designated (a missed quorum or
# an unresolved tie is published too, its ballots counted; see capital.domain.phases).
PUBLISHED_PHASES = frozenset({Phase.ANNOUNCED, Phase.NO_CAPITAL})


def result_is_public(phase: Phase, announcement_dt: datetime | None, now: datetime) -> bool:
    """True once the cycle is announced (or ended without a capital) and its announcement time has come.

    Announcing by hand before the planned time moves the announcement time to that moment
    (see :func:`capital.services.cycles.enter_phase`), so it publishes at once; a cycle kept for the record without an announcement time (the 2019 archive) is public as
    soon as it is announced. Everything that follows from the vote — the capital, the
    winner, the counts, the chart, the ballots and their receipts — is public only then.
    """
    if phase not in PUBLISHED_PHASES:
        return False
    return announcement_dt is None or now >= announcement_dt


# The phases in which a cycle's shortlist has been published (if it has one): from its
# publication on, through the final vote, to the end (no capital after the final vote included).
SHORTLIST_PUBLISHED_PHASES = frozenset({
    Phase.SHORTLISTED, Phase.VOTING_OPEN, Phase.VOTING_CLOSED, Phase.TALLIED, Phase.ANNOUNCED, Phase.NO_CAPITAL,
})


def shortlist_is_public(cycle: Any, now: datetime) -> bool:
    """True once ``cycle`` (anything with ``phase``, ``shortlist_size`` and ``shortlist_publication_dt``)
    has published its shortlist and the publication time has come, to the second.

    Publishing by hand before the planned time moves the publication time to that moment (see
    :func:`capital.services.cycles.enter_phase`), so it publishes at once. A cycle without a
    shortlist, or whose shortlist vote missed its quorum (it never reached "shortlisted"), has
    none to show: the caller asks for the finalists only when this is true. Who is a finalist,
    the counts and the shortlist ballots are public only then.
    """
    if not cycle.shortlist_size or cycle.shortlist_publication_dt is None:
        return False
    return cycle.phase in SHORTLIST_PUBLISHED_PHASES and now >= cycle.shortlist_publication_dt


def nominees_are_public(phase: Phase) -> bool:
    """True once nominations have closed, unless the cycle was cancelled."""
    return phase.has_reached(Phase.NOMINATIONS_CLOSED) and phase != Phase.CANCELLED


def years_of(year: int, is_biennial: bool) -> tuple[int, ...]:
    """The 16 May celebrations a cycle designates the capital for: one year, or two."""
    return (year, year + 1) if is_biennial else (year,)
