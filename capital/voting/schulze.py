"""The Schulze method (beatpath), Capital's default.

Following Schulze (2011), with the *winning votes* measure of a defeat:

- ``d[i, j]`` counts the ballots ranking ``i`` above ``j`` (see
  :mod:`capital.voting.pairwise`: equal ranks and unranked pairs count for
  neither side, a truncated ballot ranks every ranked candidate above the
  unranked ones).
- The link ``i → j`` has strength ``d[i, j]`` if ``d[i, j] > d[j, i]``,
  otherwise there is no link (strength 0).
- ``p[i, j]``, the strongest path from ``i`` to ``j``, is the largest, over
  all paths, of the weakest link on the path (Floyd–Warshall widest paths).
- ``i`` ranks above ``j`` when ``p[i, j] > p[j, i]``.  This relation is
  transitive; the ranking lists first the candidates no one is above, then
  those no one left is above, and so on.  Candidates in the same tier are
  tied: a tie-break order splits each such tier in its own order (and the
  split is recorded); without one, a tie in the first tier leaves the winner
  undecided.

The explanation holds the matrix ``d`` and the strongest paths ``p``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .ballots import Election
from .pairwise import pairwise_matrix
from .result import Result, TieBreak, finish, tiers_from_relation

__all__ = ["schulze", "strongest_paths"]


def strongest_paths(d: np.ndarray) -> np.ndarray:
    """The strongest path strengths ``p`` for the pairwise matrix ``d`` (winning votes)."""
    p = np.where(d > d.T, d, 0)
    for k in range(len(d)):
        # A path through k is as strong as its weaker half.
        np.maximum(p, np.minimum(p[:, k : k + 1], p[k : k + 1, :]), out=p)
    np.fill_diagonal(p, 0)
    return p


def schulze(election: Election, tie_break: TieBreak | None = None) -> Result:
    """Count ``election`` by the Schulze method (see the module docstring)."""
    d = pairwise_matrix(election)
    p = strongest_paths(d)
    tiers = tiers_from_relation((p > p.T).tolist())
    details: dict[str, Any] = {
        "strength": "winning votes",
        "matrix": d.tolist(),
        "strongest_paths": p.tolist(),
    }
    return finish("schulze", election, tiers, tie_break, [], details)
