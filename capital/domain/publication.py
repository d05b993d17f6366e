"""What the public may see of a cycle, and from when (docs/public.md).

Every public surface — the year page, the archive, the feed, the calendar, the API, the
exhibition export — asks these questions and nothing else, so that an embargo holds
whatever URL is tried.
"""

from __future__ import annotations

from datetime import datetime

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


def nominees_are_public(phase: Phase) -> bool:
    """True once nominations have closed, unless the cycle was cancelled."""
    return phase.has_reached(Phase.NOMINATIONS_CLOSED) and phase != Phase.CANCELLED


def years_of(year: int, is_biennial: bool) -> tuple[int, ...]:
    """The 16 May celebrations a cycle designates the capital for: one year, or two."""
    return (year, year + 1) if is_biennial else (year,)
