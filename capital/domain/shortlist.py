"""The shortlist: the board's approval ballot and what the count makes of it (docs/vote.md).

An approval ballot approves from 1 to K of the nominations on it (K, the cycle's shortlist
size); it is stored and published as one equal group (``Lyon = Venlo``), and what it leaves
out is not approved. The count (``capital.voting``'s ``approval`` method) ranks the nominations
by approvals, the published tie-break order deciding between equals, and the shortlist is the
first K approved at least once (:func:`capital.voting.shortlist`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

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
