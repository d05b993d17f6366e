"""The shortlist: the board's approval ballot and what the count makes of it (docs/vote.md).

An approval ballot approves from 1 to K of the nominations on it (K, the cycle's shortlist
size); it is stored and published as one equal group (``Lyon = Venlo``), and what it leaves
out is not approved. The count (``capital.voting``'s ``approval`` method) ranks the nominations
by approvals, the published tie-break order deciding between equals, and the shortlist is the
first K approved at least once (:func:`capital.voting.shortlist`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from capital.domain.ballots import BallotFormError, FieldError, Ranking
from capital.domain.messages import Message, N_


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
