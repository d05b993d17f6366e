"""Plurality (first past the post) on ranked ballots.

Only each ballot's first preference counts.  When a ballot ranks several
candidates equal first (``A = B > C``), its weight is split equally between
them (each gets 1/2 here), so every voter casts exactly one vote; shares are
exact fractions.  A ballot that ranks nobody is blank: it is reported but
counts for no one.

Candidates with equal scores are tied: a tie-break order puts them in its
order (recorded); without one, a tie for first leaves the winner undecided.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from .ballots import Election
from .borda import score_tiers
from .result import Result, TieBreak, finish

__all__ = ["plurality"]


def plurality(election: Election, tie_break: TieBreak | None = None) -> Result:
    """Count ``election`` by plurality (see the module docstring)."""
    n = len(election.candidates)
    whole = [0] * n
    split: list[Fraction] = [Fraction(0)] * n
    blank = 0
    for ranking, weight in zip(election.rankings, election.weights):
        if not ranking:
            blank += weight
        elif len(ranking[0]) == 1:
            whole[ranking[0][0]] += weight
        else:
            share = Fraction(weight, len(ranking[0]))
            for c in ranking[0]:
                split[c] += share
    scores = [w + s if s else Fraction(w) for w, s in zip(whole, split)]
    details: dict[str, Any] = {
        "scores": dict(zip(election.candidates, scores)),
        "blank": blank,
    }
    return finish("plurality", election, score_tiers(scores), tie_break, [], details)
