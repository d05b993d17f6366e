"""Approval voting: each ballot approves the candidates it names.

A ballot approves every candidate on its line, whatever the order or the equal signs between
them (the board's shortlist ballots are one equal group, ``2: Lyon = Venlo``); what a line leaves
out is not approved. A candidate's score is the weight of the ballots approving it; a ballot
that approves nobody is blank: it is reported but approves no one.

The ranking orders the candidates by score, highest first; candidates with equal scores are
tied, and a tie-break order puts them in its order (recorded), as for the other methods. A
shortlist of K is the first K of that ranking among the candidates approved at least once
(:func:`shortlist`): a tie at the K-th place is broken by the published tie-break order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .ballots import Election
from .borda import score_tiers
from .pairwise import rank_positions
from .result import Result, TieBreak, finish

__all__ = ["approval", "shortlist"]


def approval(election: Election, tie_break: TieBreak | None = None) -> Result:
    """Count ``election`` by approval (see the module docstring)."""
    n = len(election.candidates)
    positions, weights = rank_positions(election)
    approved = positions < n
    scores = [int(x) for x in weights @ approved] if n and len(weights) else [0] * n
    blank = int(weights[approved.sum(axis=1) == 0].sum()) if len(weights) else 0
    details: dict[str, Any] = {"scores": dict(zip(election.candidates, scores)), "blank": blank}
    return finish("approval", election, score_tiers(scores), tie_break, [], details)


def shortlist(result: Result, size: int) -> list[str]:
    """The first ``size`` candidates of an approval ``result``'s ranking that at least one ballot approved.

    The ranking must be total (count with a tie-break order) for a tie at the last place to be
    broken; without one, a tie across that place leaves out every candidate of the tied group.
    """
    scores = result.details["scores"]
    chosen: list[str] = []
    for group in result.ranking:
        group = [name for name in group if scores[name] > 0]
        if len(chosen) + len(group) > size:
            break
        chosen.extend(group)
    return chosen

