"""The Borda count, with averaged positions for equal ranks.

With ``n`` candidates, a strict ballot gives ``n - 1`` points to its first
preference, ``n - 2`` to the second, … and 0 to the last.  Candidates ranked
equal — an ``=`` group, or the candidates a truncated ballot leaves unranked
(equal last) — share the positions they occupy: each gets the average of
those positions' points.  So ``A > B`` among A, B, C, D gives A 3, B 2, and
C and D 0.5 each; an empty ballot gives everyone ``(n - 1) / 2``.  Every
ballot thus hands out the same ``n (n - 1) / 2`` points.

Equivalently, a candidate scores one point per ballot for each candidate it
is ranked above and half a point for each candidate it is ranked equal to,
which is how the score is computed from the pairwise matrix.  Scores are
exact (halves are kept as fractions).

Candidates with equal scores are tied: a tie-break order puts them in its
order (recorded); without one, a tie for first leaves the winner undecided.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from .ballots import Election
from .pairwise import pairwise_matrix
from .result import Result, TieBreak, finish

__all__ = ["borda", "score_tiers"]


def score_tiers(scores: list[Any]) -> list[list[int]]:
    """Candidate indices grouped by equal score, highest score first."""
    tiers: dict[Any, list[int]] = {}
    for i, score in enumerate(scores):
        tiers.setdefault(score, []).append(i)
    return [tiers[s] for s in sorted(tiers, reverse=True)]


def borda(election: Election, tie_break: TieBreak | None = None) -> Result:
    """Count ``election`` by the Borda count (see the module docstring)."""
    n = len(election.candidates)
    d = pairwise_matrix(election)
    total = election.total_weight
    # Twice the score stays an integer: (n - 1) * total + wins - losses.
    doubled = ((n - 1) * total + d.sum(axis=1) - d.sum(axis=0)).tolist() if n else []
    scores = [Fraction(int(x), 2) for x in doubled]
    details: dict[str, Any] = {
        "scores": dict(zip(election.candidates, scores)),
        "points": "n-1 for a first preference down to 0; equal ranks share the average",
    }
    return finish("borda", election, score_tiers(scores), tie_break, [], details)
