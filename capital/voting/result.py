"""The outcome of a count, and the tie-break order that may decide ties.

Every method returns a :class:`Result`: the winner (``None`` when a tie
could not be resolved), the full ranking with tied candidates grouped, the
record of every place where the tie-break order decided something, and the
method's own explanation in ``details``.

The tie-break order (:class:`TieBreak`) lists every candidate once, from the
most to the least favoured; the cycle draws and publishes it when voting
opens.  A tie is always resolved in favour of the candidate listed earlier,
and nothing else (not names, not the order of the ballots, not chance) ever
decides a tie.  Without a tie-break order, a tie that decides the winner
leaves the winner ``None`` and names the tied candidates in ``tied``; ties
lower down stay grouped in the ranking.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .ballots import BallotError, normalize_name

__all__ = ["Result", "TieBreak", "jsonable", "tiers_to_ranking"]


class TieBreak:
    """A complete order of the candidates, most favoured first."""

    def __init__(self, order: Sequence[str], candidates: Sequence[str]):
        names = [normalize_name(n) for n in order]
        missing = [c for c in candidates if c not in names]
        unknown = [n for n in names if n not in candidates]
        repeated = sorted({n for n in names if names.count(n) > 1})
        problems = []
        if unknown:
            problems.append("unknown " + ", ".join(unknown))
        if repeated:
            problems.append("listed twice " + ", ".join(repeated))
        if missing:
            problems.append("missing " + ", ".join(missing))
        if problems:
            raise BallotError(
                "the tie-break order must list every candidate exactly once: " + "; ".join(problems)
            )
        position = {name: i for i, name in enumerate(names)}
        self.order = tuple(names)
        #: position of each candidate *index* (display order) in the tie-break order
        self.rank = [position[c] for c in candidates]

    def sort(self, indices: Iterable[int]) -> list[int]:
        """Candidate indices sorted from the most to the least favoured."""
        return sorted(indices, key=self.rank.__getitem__)


@dataclass
class Result:
    """The outcome of one count.

    ``ranking`` lists groups of candidates, best first; a group of several
    candidates is a tie the count could not (or was not asked to) break.
    ``tied`` names the candidates tied for first when ``winner`` is ``None``.
    ``tie_break_used`` has one entry per decision the tie-break order made:
    ``{"stage": ..., "tied": [...], "resolved": [...]}`` where ``resolved``
    lists the tied candidates in the order the tie-break put them.
    """

    method: str
    candidates: list[str]
    winner: str | None
    ranking: list[list[str]]
    tied: list[str] = field(default_factory=list)
    tie_break: list[str] | None = None
    tie_break_used: list[dict[str, Any]] = field(default_factory=list)
    ballots: int = 0
    distinct_ballots: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data (numbers that are not whole become floats)."""
        data: dict[str, Any] = {
            "method": self.method,
            "winner": self.winner,
            "ranking": self.ranking,
            "tied": self.tied,
            "tie_break": self.tie_break,
            "tie_break_used": self.tie_break_used,
            "candidates": self.candidates,
            "ballots": self.ballots,
            "distinct_ballots": self.distinct_ballots,
        }
        data.update(self.details)
        return jsonable(data)


def jsonable(value: Any) -> Any:
    """Convert tuples, numpy numbers and fractions inside ``value`` to JSON types."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else float(value)
    if hasattr(value, "item"):  # numpy scalar
        return jsonable(value.item())
    return value


def tiers_to_ranking(
    tiers: Sequence[Sequence[int]],
    candidates: Sequence[str],
    tie_break: TieBreak | None,
    stage: str,
    used: list[dict[str, Any]],
) -> list[list[str]]:
    """Turn tiers of candidate indices into the named ranking.

    With a tie-break order, each tier of several candidates is split into
    single places in tie-break order, and the split is recorded in ``used``.
    Without one, tiers stay grouped.
    """
    ranking: list[list[str]] = []
    place = 1
    for tier in tiers:
        if len(tier) > 1 and tie_break is not None:
            chosen = tie_break.sort(tier)
            used.append(
                {
                    "stage": f"{stage}, places {place}-{place + len(tier) - 1}",
                    "tied": [candidates[i] for i in sorted(tier)],
                    "resolved": [candidates[i] for i in chosen],
                }
            )
            ranking.extend([candidates[i]] for i in chosen)
        else:
            ranking.append([candidates[i] for i in sorted(tier)])
        place += len(tier)
    return ranking


def finish(
    method: str,
    election: Any,
    tiers: Sequence[Sequence[int]],
    tie_break: TieBreak | None,
    used: list[dict[str, Any]],
    details: dict[str, Any],
    stage: str = "final ranking",
) -> Result:
    """Build the :class:`Result` of ``election`` from its tiers of candidate indices.

    The winner is the single candidate of the first tier (after the tie-break
    order, if any, split the tiers); otherwise it is ``None`` and ``tied``
    names the first tier.
    """
    candidates = list(election.candidates)
    ranking = tiers_to_ranking(tiers, candidates, tie_break, stage, used)
    winner = ranking[0][0] if ranking and len(ranking[0]) == 1 else None
    return Result(
        method=method,
        candidates=candidates,
        winner=winner,
        ranking=ranking,
        tied=list(ranking[0]) if ranking and winner is None else [],
        tie_break=list(tie_break.order) if tie_break is not None else None,
        tie_break_used=used,
        ballots=election.total_weight,
        distinct_ballots=len(election.weights),
        details=details,
    )


def tiers_from_relation(beats: Any) -> list[list[int]]:
    """Tiers of a strict partial order given as a boolean matrix ``beats[i, j]``.

    The first tier holds the candidates nobody beats, the next tier those
    nobody left beats, and so on.  ``beats`` must be transitive and
    irreflexive (so acyclic); every tier is then non-empty.
    """
    remaining = list(range(len(beats)))
    tiers: list[list[int]] = []
    while remaining:
        tier = [i for i in remaining if not any(beats[j][i] for j in remaining)]
        if not tier:
            raise ValueError("the relation has a cycle")
        tiers.append(tier)
        chosen = set(tier)
        remaining = [i for i in remaining if i not in chosen]
    return tiers
