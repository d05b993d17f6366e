"""Capital's tally engine: ranked-ballot counting that anyone can re-run.

Pure Python (standard library and numpy), no Flask: the board's result and
any public recount (``python -m capital.voting``) run this same code.

Public API::

    from capital.voting import parse_ballots, tally, METHODS, BallotError

    election = parse_ballots("3: Montréal > Córdoba = Venlo\\nVenlo\\n")
    result = tally(election, method="schulze", tie_break=["Venlo", "Montréal", "Córdoba"])
    result.winner, result.ranking, result.to_dict()

- :func:`parse_ballots` reads the ballot file format (docs/ballot-file.md) into an
  :class:`Election` (candidates + identical ballots grouped with summed
  weights); :func:`ballots_from_rankings` builds one from Python data, one
  ``[["Montréal"], ["Córdoba", "Venlo"]]`` ranking per voter, and
  :meth:`Election.from_ballots` from weighted :class:`Ballot` objects.
- :func:`tally` counts by one of :data:`METHODS` (``schulze`` — the default —
  ``ranked_pairs``, ``irv``, ``borda``, ``plurality``, and ``approval`` for
  the shortlist) and returns a
  :class:`Result`, whose :meth:`Result.to_dict` is the published JSON.
- :class:`BallotError` (a :class:`ValueError`) reports invalid input; for a
  ballot file it lists every bad line and column, and nothing is counted.

How each method treats equal ranks, truncated ballots and the tie-break
order is documented in its module: :mod:`.schulze`, :mod:`.ranked_pairs`,
:mod:`.irv`, :mod:`.borda`, :mod:`.plurality`, :mod:`.approval` (with
:func:`shortlist`, the first K approved); the tie-break rules common to
all of them in :mod:`.result`.
"""

from .ballots import (
    Ballot,
    BallotError,
    Election,
    LineError,
    ballots_from_rankings,
    format_ballot,
    format_ballots,
    parse_ballots,
)
from .approval import shortlist
from .result import Result, TieBreak
from .tally import DEFAULT_METHOD, METHODS, tally

__all__ = [
    "DEFAULT_METHOD",
    "METHODS",
    "Ballot",
    "BallotError",
    "Election",
    "LineError",
    "Result",
    "TieBreak",
    "ballots_from_rankings",
    "format_ballot",
    "format_ballots",
    "parse_ballots",
    "shortlist",
    "tally",
]
