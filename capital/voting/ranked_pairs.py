"""Ranked pairs (Tideman).

- ``d[i, j]`` counts the ballots ranking ``i`` above ``j`` (see
  :mod:`capital.voting.pairwise` for equal ranks and truncated ballots).
- Each *majority* ``i > j`` (``d[i, j] > d[j, i]``) is taken from the
  strongest to the weakest: more winning votes ``d[i, j]`` first and, among
  equal winning votes, fewer opposing votes ``d[j, i]`` first (the usual
  winning-votes rule; Tideman's 1987 paper sorted by margins, which is the
  same order when every ballot ranks every candidate).
- A majority is *locked* unless it would close a cycle with the majorities
  already locked.  Pairwise ties are never locked.
- The ranking lists first the candidates no locked majority puts anyone
  above, then the next tier, and so on; candidates in one tier are tied.

Majorities of exactly equal strength ("a level") may be locked in any order,
and sometimes the order matters (some of them close a cycle only if the
others are locked first).  With a tie-break order, such majorities are taken
with the one whose winner is more favoured first, and for the same winner
the one whose loser is less favoured first; each level where that order
decided something is recorded.  Without a tie-break order, every order is
tried: a candidate is ranked above another only if it is so in every
outcome, and the winner is undecided unless every order gives the same one
(the pairs whose locking depends on the order are marked ``locked: null``).
The tie-break order also splits tied tiers of the final ranking.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .ballots import Election
from .pairwise import pairwise_matrix
from .result import Result, TieBreak, finish, tiers_from_relation

__all__ = ["ranked_pairs"]

Pair = tuple[int, int]
# Trying every order of equally strong majorities is exponential in the worst
# case; past this many partial outcomes the count reports an unresolved tie.
_MAX_STATES = 20_000


class _Undecided(Exception):
    """Too many orders of equal majorities to try without a tie-break order."""


def _locked_with(reach: np.ndarray, pair: Pair) -> np.ndarray:
    """The path matrix after locking ``pair`` (a new array)."""
    i, j = pair
    src = reach[:, i].copy()
    src[i] = True
    dst = reach[j, :].copy()
    dst[j] = True
    return reach | np.outer(src, dst)


def _jointly_acyclic(reach: np.ndarray, pairs: Iterable[Pair]) -> bool:
    """Whether locking all ``pairs`` together leaves the graph acyclic."""
    for pair in pairs:
        reach = _locked_with(reach, pair)
    return not reach.diagonal().any()


def _lock_level_every_order(
    reach: np.ndarray, locked: frozenset[Pair], level: list[Pair], budget: list[int]
) -> dict[frozenset[Pair], np.ndarray]:
    """Every distinct outcome of locking ``level`` in some order."""
    outcomes: dict[frozenset[Pair], np.ndarray] = {}
    seen: set[tuple[frozenset[Pair], frozenset[Pair]]] = set()

    def explore(reach: np.ndarray, locked: frozenset[Pair], remaining: frozenset[Pair]) -> None:
        if (locked, remaining) in seen:
            return
        seen.add((locked, remaining))
        budget[0] -= 1
        if budget[0] < 0:
            raise _Undecided
        lockable = [p for p in sorted(remaining) if not reach[p[1], p[0]]]
        if not lockable:
            outcomes[locked] = reach
        for pair in lockable:
            explore(_locked_with(reach, pair), locked | {pair}, remaining - {pair})

    explore(reach, locked, frozenset(level))
    return outcomes


def ranked_pairs(election: Election, tie_break: TieBreak | None = None) -> Result:
    """Count ``election`` by ranked pairs (see the module docstring)."""
    names = election.candidates
    n = len(names)
    d = pairwise_matrix(election)
    strength: dict[tuple[int, int], list[Pair]] = {}
    for i in range(n):
        for j in range(n):
            if d[i, j] > d[j, i]:
                strength.setdefault((int(d[i, j]), int(d[j, i])), []).append((i, j))
    levels = [strength[key] for key in sorted(strength, key=lambda k: (-k[0], k[1]))]
    if tie_break is not None:
        levels = [
            sorted(level, key=lambda p: (tie_break.rank[p[0]], -tie_break.rank[p[1]]))
            for level in levels
        ]
    used: list[dict[str, Any]] = []

    def label(pair: Pair) -> str:
        return f"{names[pair[0]]} > {names[pair[1]]}"

    start = np.zeros((n, n), dtype=bool)
    states: dict[frozenset[Pair], np.ndarray] = {frozenset(): start}
    budget = [_MAX_STATES]
    try:
        for level in levels:
            following: dict[frozenset[Pair], np.ndarray] = {}
            for locked, reach in states.items():
                lockable = [p for p in level if not reach[p[1], p[0]]]
                if _jointly_acyclic(reach, lockable):
                    # The order within the level cannot matter.
                    for pair in lockable:
                        reach = _locked_with(reach, pair)
                    following[locked | frozenset(lockable)] = reach
                elif tie_break is not None:
                    used.append(
                        {
                            "stage": "order of equally strong majorities "
                            f"({d[level[0]]} for, {d[level[0][::-1]]} against)",
                            "tied": [label(p) for p in sorted(level)],
                            "resolved": [label(p) for p in level],
                        }
                    )
                    for pair in level:
                        if not reach[pair[1], pair[0]]:
                            reach = _locked_with(reach, pair)
                            locked = locked | {pair}
                    following[locked] = reach
                else:
                    following.update(_lock_level_every_order(reach, locked, level, budget))
            states = following
    except _Undecided:
        details = {
            "strength": "winning votes",
            "matrix": d.tolist(),
            "pairs": [_pair_entry(p, d, names, None) for level in levels for p in level],
            "undecided": "too many orders of equally strong majorities to try; "
            "a tie-break order is needed",
        }
        return finish("ranked_pairs", election, [list(range(n))], tie_break, used, details)

    outcomes = list(states.values())
    if len(outcomes) == 1:
        tiers = tiers_from_relation(outcomes[0].tolist())
    else:
        place = np.empty((len(outcomes), n), dtype=np.int64)
        for o, reach in enumerate(outcomes):
            for t, tier in enumerate(tiers_from_relation(reach.tolist())):
                place[o, tier] = t
        # Above in every outcome: an intersection of rankings, still a strict order.
        tiers = tiers_from_relation((place[:, :, None] < place[:, None, :]).all(axis=0).tolist())
    locked_sets = list(states)
    pairs = []
    for level in levels:
        for pair in level:
            hits = sum(pair in locked for locked in locked_sets)
            status = True if hits == len(locked_sets) else False if hits == 0 else None
            pairs.append(_pair_entry(pair, d, names, status))
    details = {"strength": "winning votes", "matrix": d.tolist(), "pairs": pairs}
    return finish("ranked_pairs", election, tiers, tie_break, used, details)


def _pair_entry(pair: Pair, d: np.ndarray, names: tuple[str, ...], locked: bool | None) -> dict[str, Any]:
    i, j = pair
    return {
        "winner": names[i],
        "loser": names[j],
        "for": int(d[i, j]),
        "against": int(d[j, i]),
        "locked": locked,
    }
