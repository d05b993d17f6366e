"""The entry point of the tally engine: choose a method, count, explain."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from .approval import approval
from .ballots import Ballot, Election, ballots_from_rankings, parse_ballots
from .borda import borda
from .irv import irv
from .plurality import plurality
from .ranked_pairs import ranked_pairs
from .result import Result, TieBreak
from .schulze import schulze

__all__ = ["DEFAULT_METHOD", "METHODS", "tally"]

#: Method id -> counting function ``(Election, TieBreak | None) -> Result``.
METHODS: dict[str, Callable[[Election, TieBreak | None], Result]] = {
    "schulze": schulze,
    "ranked_pairs": ranked_pairs,
    "irv": irv,
    "borda": borda,
    "plurality": plurality,
    "approval": approval,
}
DEFAULT_METHOD = "schulze"


def tally(
    election_or_ballots: Election | str | bytes | Iterable[Ballot | Sequence[Sequence[str]]],
    method: str = DEFAULT_METHOD,
    candidates: Sequence[str] | None = None,
    tie_break: Sequence[str] | None = None,
) -> Result:
    """Count ballots by ``method`` and return the explained :class:`Result`.

    ``election_or_ballots`` is an :class:`Election`, the text of a ballot
    file (``str``, or its raw UTF-8 ``bytes``), or an iterable of :class:`Ballot` objects and/or rankings (lists
    of groups of names).  ``candidates``, if given, is the candidate list:
    ballots may rank no one else, and candidates nobody ranked still take
    part (equal last on every ballot).  ``tie_break`` lists every candidate
    once, most favoured first; it is the only thing that ever breaks a tie.
    Raises :class:`BallotError` on invalid input and :class:`ValueError` on
    an unknown method.
    """
    try:
        count = METHODS[method]
    except KeyError:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}") from None
    if isinstance(election_or_ballots, (str, bytes, bytearray, memoryview)):
        election = parse_ballots(election_or_ballots, candidates)
    elif isinstance(election_or_ballots, Election):
        election = election_or_ballots
        if candidates is not None:
            election = Election.from_ballots(election.ballots, candidates)
    else:
        election = ballots_from_rankings(election_or_ballots, candidates)
    order = None if tie_break is None else TieBreak(tie_break, election.candidates)
    return count(election, order)
