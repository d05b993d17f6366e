"""The pairwise preference matrix shared by Schulze, ranked pairs and Borda.

``d[i, j]`` is the number of ballots (weights included) that rank candidate
``i`` strictly above candidate ``j``.  A ballot that ranks ``i`` and ``j``
equal — in one ``=`` group, or both unranked — counts for neither.  A ranked
candidate is above every unranked one.
"""

from __future__ import annotations

from itertools import chain

import numpy as np

from .ballots import Election

__all__ = ["pairwise_matrix", "rank_positions"]


def rank_positions(election: Election) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(positions, weights)`` for the distinct ballots.

    ``positions[b, c]`` is the index of the group holding candidate ``c`` on
    ballot ``b`` (0 = first preference) or ``n`` (the number of candidates)
    if the ballot leaves ``c`` unranked; ``weights[b]`` is the ballot's weight
    (int64, or Python ints when their sum might overflow int64).
    """
    n = len(election.candidates)
    weights = _weights(election.weights)
    if "_positions" in election.__dict__:  # read by the fast path: built already
        return election._positions, weights
    rankings = election.rankings
    count = len(rankings)
    positions = np.full((count, n), n, dtype=np.int32)
    if not count or not n:
        return positions, weights
    # Flatten with C-level iteration: every group, then every ranked candidate.
    groups = list(chain.from_iterable(rankings))
    per_ballot = np.fromiter(map(len, rankings), dtype=np.int64, count=count)
    per_group = np.fromiter(map(len, groups), dtype=np.int64, count=len(groups))
    ranked = np.fromiter(chain.from_iterable(groups), dtype=np.int64, count=int(per_group.sum()))
    group_ballot = np.repeat(np.arange(count), per_ballot)
    # A group's rank: its index among all groups minus that of its ballot's first group.
    first_group = np.cumsum(per_ballot) - per_ballot
    group_rank = np.arange(len(groups)) - np.repeat(first_group, per_ballot)
    positions[np.repeat(group_ballot, per_group), ranked] = np.repeat(group_rank, per_group)
    return positions, weights


def _weights(weights: tuple[int, ...]) -> np.ndarray:
    """``weights`` as int64, or as Python ints (exact, slower) if their sum might not fit."""
    if sum(weights) < 1 << 62:
        return np.fromiter(weights, dtype=np.int64, count=len(weights))
    return np.array(weights, dtype=object)


def pairwise_matrix(election: Election) -> np.ndarray:
    """The ``n × n`` matrix ``d`` described in the module docstring (int64, or Python ints for huge weights)."""
    n = len(election.candidates)
    positions, weights = rank_positions(election)
    d = np.zeros((n, n), dtype=weights.dtype)
    # One (distinct ballots × n) comparison per candidate keeps memory linear
    # in the number of distinct ballots, whatever the number of candidates.
    for i in range(n):
        d[i] = weights @ (positions[:, i : i + 1] < positions)
    return d
