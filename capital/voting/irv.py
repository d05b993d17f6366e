"""Instant-runoff voting (IRV, the alternative vote).

Each round, every ballot counts for its highest-ranked candidates still in
the count.  If that preference is a group of several continuing candidates
ranked equal (``A = B``), the ballot's weight is split equally between them
(exact fractions).  A ballot with no continuing candidate left — a
truncated ballot whose candidates are all eliminated, or an empty ballot —
is *exhausted*: it counts for no one in this and later rounds.

- A candidate with more than half of the votes counted for continuing
  candidates (exhausted ballots excluded) wins; so does the last candidate
  standing.
- Otherwise the candidate with the fewest votes is eliminated and its
  ballots transfer to their next continuing preference (the round records
  the transfers, including those to "exhausted").
- Candidates with zero votes are all eliminated together: no ballot moves,
  so their order cannot matter.  If *every* continuing candidate has zero
  votes (all ballots exhausted), they are tied.
- A tie for fewest votes (above zero) is broken by the tie-break order:
  the least favoured of the tied candidates is eliminated, and the round
  records it.  Without a tie-break order, every way of breaking the tie
  (and any later one) is followed: if they all lead to the same winner,
  that is the winner; otherwise the winner is undecided and ``tied`` names
  the possible winners.  The rounds stop at that tie.

The ranking puts the winner first, then the other candidates still
continuing at the end ordered by their last-round votes, then the
eliminated candidates, the last eliminated first; candidates eliminated
together, or with equal last-round votes, are tied (split by the tie-break
order if one is given).
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np

from .ballots import Election
from .borda import score_tiers
from .pairwise import rank_positions
from .result import Result, TieBreak, finish

__all__ = ["irv"]

Votes = int | Fraction
# Without a tie-break order, the ways of breaking ties are followed up to
# this many distinct states (sets of continuing candidates).
_MAX_STATES = 20_000


class _Count:
    """The IRV count over the distinct ballots: each candidate's votes and the exhausted weight.

    Works on the ballots' rank positions (see
    :func:`capital.voting.pairwise.rank_positions`) with numpy: a ballot
    counts for the continuing candidates of its best remaining place
    (``members``); eliminating candidates recounts only the ballots that
    counted for them.  Votes are ints, or exact fractions where equal ranks
    split a ballot.
    """

    def __init__(self, election: Election):
        self.positions, self.weights = rank_positions(election)
        n = len(election.candidates)
        self.continuing = [True] * n
        self.members = self._members(slice(None))
        self.votes, self.exhausted = self._contributions(self.weights, self.members)

    def _members(self, rows: slice | np.ndarray) -> np.ndarray:
        """Which continuing candidates each of ``rows`` counts for (all those of its best place left)."""
        n = len(self.continuing)
        masked = np.where(np.array(self.continuing, dtype=bool), self.positions[rows], n)
        top = masked.min(axis=1, initial=n)
        return (masked == top[:, None]) & (top < n)[:, None]

    def _contributions(self, weights: np.ndarray, members: np.ndarray) -> tuple[list[Votes], int]:
        """The votes ballots of ``weights`` give when counting for ``members``, and the weight exhausted."""
        shared = members.sum(axis=1)
        votes: list[Votes] = [int(v) for v in weights @ (members & (shared == 1)[:, None])]
        for b in np.flatnonzero(shared > 1).tolist():
            share = Fraction(int(weights[b]), int(shared[b]))
            for c in np.flatnonzero(members[b]).tolist():
                votes[c] += share
        return votes, int(weights[shared == 0].sum())

    def eliminate(self, losers: list[int]) -> None:
        """Eliminate ``losers`` together and transfer their ballots."""
        rows = np.flatnonzero(self.members[:, losers].any(axis=1))
        weights = self.weights[rows]
        before, _ = self._contributions(weights, self.members[rows])
        for c in losers:
            self.continuing[c] = False
        members = self._members(rows)
        after, exhausted = self._contributions(weights, members)
        self.members[rows] = members
        self.votes = [v - old + new if live else 0
                      for v, old, new, live in zip(self.votes, before, after, self.continuing)]
        self.exhausted += exhausted


def _fresh_votes(election: Election, continuing: frozenset[int]) -> tuple[dict[int, Votes], int]:
    """Votes of the ``continuing`` candidates counted from scratch, and the exhausted weight."""
    votes: dict[int, Votes] = dict.fromkeys(continuing, 0)
    exhausted = 0
    for ranking, weight in zip(election.rankings, election.weights):
        for group in ranking:
            members = [c for c in group if c in continuing]
            if members:
                share = weight if len(members) == 1 else Fraction(weight, len(members))
                for c in members:
                    votes[c] += share
                break
        else:
            exhausted += weight
    return votes, exhausted


class _TooManyStates(Exception):
    """Following every way to break the ties would take too long: the result is undecided."""


def _possible_winners(election: Election, continuing: frozenset[int]) -> frozenset[int]:
    """Every winner some way of breaking elimination ties leads to."""

    @lru_cache(maxsize=None)
    def winners(continuing: frozenset[int]) -> frozenset[int]:
        if winners.cache_info().currsize > _MAX_STATES:
            raise _TooManyStates
        votes, _ = _fresh_votes(election, continuing)
        counted = sum(votes.values())
        leader = max(continuing, key=votes.__getitem__)
        if len(continuing) == 1 or 2 * votes[leader] > counted:
            return frozenset([leader])
        if counted == 0:
            return continuing
        zero = frozenset(c for c in continuing if votes[c] == 0)
        if zero:
            return winners(continuing - zero)
        fewest = min(votes.values())
        lowest = [c for c in continuing if votes[c] == fewest]
        return frozenset().union(*(winners(continuing - {c}) for c in lowest))

    return winners(continuing)


def irv(election: Election, tie_break: TieBreak | None = None) -> Result:
    """Count ``election`` by instant-runoff voting (see the module docstring)."""
    names = election.candidates
    count = _Count(election)
    used: list[dict[str, Any]] = []
    rounds: list[dict[str, Any]] = []
    eliminated: list[list[int]] = []  # in order of elimination
    head: list[list[int]] = []  # the first tiers, decided when the count stops
    while True:
        continuing = [c for c in range(len(names)) if count.continuing[c]]
        votes = {c: count.votes[c] for c in continuing}
        counted = sum(votes.values())
        entry: dict[str, Any] = {
            "round": len(rounds) + 1,
            "votes": {names[c]: votes[c] for c in continuing},
            "continuing_votes": counted,
            "exhausted": count.exhausted,
        }
        rounds.append(entry)
        if not continuing:
            break
        leader = max(continuing, key=votes.__getitem__)
        if len(continuing) == 1 or 2 * votes[leader] > counted:
            entry["elected"] = names[leader]
            head = [[leader]] + score_tiers_of([c for c in continuing if c != leader], votes)
            break
        if counted == 0:
            entry["tie"] = [names[c] for c in continuing]
            entry["note"] = "no votes left for any continuing candidate"
            head = [continuing]
            break
        fewest = min(votes.values())
        losers = [c for c in continuing if votes[c] == fewest]
        if fewest != 0 and len(losers) > 1:
            entry["tie"] = [names[c] for c in losers]
            if tie_break is None:
                try:
                    possible = _possible_winners(election, frozenset(continuing))
                    entry["note"] = "tie for fewest votes and no tie-break order: every way of breaking it was followed"
                except _TooManyStates:
                    possible = frozenset(continuing)
                    entry["note"] = "tie for fewest votes and no tie-break order: too many ways to follow"
                entry["possible_winners"] = [names[c] for c in sorted(possible)]
                rest = [c for c in continuing if c not in possible]
                head = [sorted(possible)] + score_tiers_of(rest, votes)
                break
            ordered = tie_break.sort(losers)
            used.append(
                {
                    "stage": f"round {entry['round']}: elimination (the least favoured goes)",
                    "tied": entry["tie"],
                    "resolved": [names[c] for c in ordered],
                }
            )
            losers = [ordered[-1]]
        entry["eliminated"] = [names[c] for c in losers]
        before, exhausted_before = dict(votes), count.exhausted
        count.eliminate(losers)
        transfers: dict[str, Votes] = {}
        for c in continuing:
            if count.continuing[c] and count.votes[c] != before[c]:
                transfers[names[c]] = count.votes[c] - before[c]
        if count.exhausted != exhausted_before:
            transfers["exhausted"] = count.exhausted - exhausted_before
        entry["transfers"] = transfers
        eliminated.append(losers)
    tiers = head + eliminated[::-1]
    details = {"rounds": rounds}
    return finish("irv", election, tiers, tie_break, used, details)


def score_tiers_of(candidates: list[int], votes: dict[int, Votes]) -> list[list[int]]:
    """``candidates`` grouped by equal votes, most votes first."""
    tiers = score_tiers([votes[c] for c in candidates])
    return [[candidates[k] for k in tier] for tier in tiers]
