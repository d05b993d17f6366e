"""The shortlist: the board's approval ballot and what the count makes of it (docs/vote.md).

An approval ballot approves from 1 to K of the nominations on it (K, the cycle's shortlist
size); it is stored and published as one equal group (``Lyon = Venlo``), and what it leaves
out is not approved. The count (``capital.voting``'s ``approval`` method) ranks the nominations
by approvals, the published tie-break order deciding between equals, and the shortlist is the
first K approved at least once (:func:`capital.voting.shortlist`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from capital.domain.ballots import BallotFormError, FieldError, Ranking
from capital.domain.messages import Decision, Message, N_


def read_approvals(approved: Iterable[int], nomination_ids: Sequence[int], size: int) -> Ranking:
    """The approval ballot the ticked boxes mean, as one equal group, or :class:`BallotFormError`.

    Refused: a nomination not on the ballot, no box ticked, more than ``size`` ticked.
    """
    chosen = set(approved)
    if not chosen <= set(nomination_ids):
        raise BallotFormError([FieldError(None, Message(
            N_("The ballot names a nomination that is not on it."), {}, "ballot.unknown_nomination"))])
    if not chosen:
        raise BallotFormError([FieldError(None, Message(
            N_("Approve at least one nomination."), {}, "shortlist.empty"))])
    if len(chosen) > size:
        raise BallotFormError([FieldError(None, Message(
            N_("Approve at most %(size)s nominations: you ticked %(count)s."), {"size": size, "count": len(chosen)},
            "shortlist.too_many"))])
    return (tuple(sorted(chosen)),)


def finalist_update_decision(is_finalist: bool, timeline: Any, now: datetime) -> Decision:
    """Whether a nomination may receive its updated dossier or presentation now: a finalist's, from the
    shortlist's publication (``timeline.finalist_update``) to its deadline excluded."""
    if not is_finalist:
        return Decision.refuse(Message(N_("Only a finalist may upload an updated dossier."), {},
                                       "finalist_update.not_finalist"))
    window = timeline.finalist_update if timeline is not None else None
    if window is None or not window.is_open(now):
        return Decision.refuse(Message(N_("Updated dossiers are accepted from the shortlist's publication until "
                                          "their deadline only."), {}, "finalist_update.closed"))
    return Decision.allow()


@dataclass(frozen=True)
class CountLine:
    """One nomination in the shortlist vote's count: its place, its name on the ballot file, its approvals."""

    place: int
    name: str
    approvals: int
    is_finalist: bool


@dataclass(frozen=True)
class KthPlaceTie:
    """Nominations with equal approvals across the shortlist's last place, which the published
    tie-break order split: ``chosen`` are on the shortlist, ``left_out`` are not."""

    approvals: int
    chosen: tuple[str, ...]
    left_out: tuple[str, ...]


@dataclass(frozen=True)
class ShortlistCount:
    """The shortlist vote's count as the board reads it: every nomination in the count's order, and the
    tie at the K-th place when the tie-break order decided it (None otherwise)."""

    lines: tuple[CountLine, ...]
    tie: KthPlaceTie | None


def read_shortlist_count(tally: dict[str, Any], *, is_quorum_met: bool) -> ShortlistCount:
    """The count ``tally`` (a stored approval count with its ``shortlist_ids``) line by line.

    The ranking is the count's, the tie-break order already applied, so the shortlist is its first
    lines approved at least once. A tie matters only when its group holds finalists and others: the
    tie-break order then decided who took the last places (:func:`capital.voting.shortlist`).
    Without the quorum nobody is a finalist, and no tie decided anything."""
    names = dict(zip(tally["candidate_ids"], tally["candidates"], strict=True))
    finalists = {names[n] for n in tally.get("shortlist_ids", [])} if is_quorum_met else set()
    scores = tally["scores"]
    ordered = [name for group in tally["ranking"] for name in group]
    lines = tuple(CountLine(place, name, scores[name], name in finalists) for place, name in enumerate(ordered, 1))
    tie = None
    for used in tally.get("tie_break_used", []):
        resolved = used["resolved"]
        chosen = tuple(name for name in resolved if name in finalists)
        if chosen and len(chosen) < len(resolved):
            tie = KthPlaceTie(scores[resolved[0]], chosen, tuple(name for name in resolved if name not in finalists))
    return ShortlistCount(lines, tie)
