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

import numpy as np

from .ballots import Election
from .pairwise import rank_positions
from .borda import score_tiers
from .result import Result, TieBreak, finish

__all__ = ["plurality"]


def plurality(election: Election, tie_break: TieBreak | None = None) -> Result:
    """Count ``election`` by plurality (see the module docstring)."""
    n = len(election.candidates)
    positions, weights = rank_positions(election)
    first = positions == 0
    firsts = first.sum(axis=1)
    # Ballots with one first preference, counted at once; the shared ones split exactly.
    whole = [int(x) for x in weights @ (first & (firsts == 1)[:, None])] if n else []
    split: list[Fraction] = [Fraction(0)] * n
    for b in np.flatnonzero(firsts > 1).tolist():
        share = Fraction(int(weights[b]), int(firsts[b]))
        for c in np.flatnonzero(first[b]).tolist():
            split[c] += share
    blank = int(weights[firsts == 0].sum())
    scores = [w + s if s else Fraction(w) for w, s in zip(whole, split)]
    details: dict[str, Any] = {
        "scores": dict(zip(election.candidates, scores)),
        "blank": blank,
    }
    return finish("plurality", election, score_tiers(scores), tie_break, [], details)
