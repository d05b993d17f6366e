"""``python -m capital.voting``: recount a published ballot file.

Usage::

    python -m capital.voting [--method M] [--candidates A,B,C] [--tie-break A,B,C] [--json] FILE

``FILE`` is a ballot file (``-`` reads standard input), UTF-8, read as bytes:
only its distinct lines are decoded, a byte order mark at the start is
ignored, and bytes that are not UTF-8 are reported by line and column like
any other malformed line.  The report
goes to standard output, readable by people or, with ``--json``, as the
JSON of :meth:`capital.voting.Result.to_dict`.  Exit status: 0 with a result
(even an undecided tie), 2 on bad input, with the error on standard error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from fractions import Fraction
from typing import IO, Any

from .approval import shortlist
from .ballots import BallotError
from .result import Result
from .tally import DEFAULT_METHOD, METHODS, tally

__all__ = ["main", "render"]

TITLES = {
    "schulze": "Schulze (winning votes)",
    "ranked_pairs": "Ranked pairs (Tideman, winning votes)",
    "irv": "Instant-runoff voting",
    "borda": "Borda count (equal ranks share averaged points)",
    "plurality": "Plurality (equal first preferences share the vote)",
    "approval": "Approval (a ballot approves every candidate it names)",
}


def _names(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m capital.voting",
        description="Count a file of ranked ballots (one per line: '3: A > B = C > D').",
    )
    parser.add_argument("--method", choices=list(METHODS), default=DEFAULT_METHOD,
                        help=f"counting method (default: {DEFAULT_METHOD})")
    parser.add_argument("--candidates", type=_names, metavar="A,B,C",
                        help="the candidate list; any other name on a ballot is an error")
    parser.add_argument("--tie-break", type=_names, metavar="A,B,C",
                        help="every candidate once, most favoured first; the only way ties are broken")
    parser.add_argument("--seats", type=int, metavar="K",
                        help="with --method approval: also name the shortlist, the first K approved")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("file", metavar="FILE", help="ballot file, or - for standard input")
    return parser


def main(argv: Sequence[str] | None = None, stdin: IO[bytes] | None = None,
         stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    args = _parser().parse_args(argv)
    try:
        if args.file == "-":
            raw = (stdin or sys.stdin.buffer).read()
        else:
            with open(args.file, "rb") as handle:
                raw = handle.read()
        # The raw bytes go to the parser, which decodes only the distinct lines
        # (a byte order mark is ignored; bytes that are not UTF-8 are a line error).
        result = tally(raw, method=args.method, candidates=args.candidates, tie_break=args.tie_break)
    except OSError as error:
        print(f"error: cannot read {args.file}: {error.strerror}", file=stderr)
        return 2
    except BallotError as error:
        print(f"error: {error}", file=stderr)
        return 2
    chosen = shortlist(result, args.seats) if args.seats is not None and result.method == "approval" else None
    if args.json:
        data = result.to_dict()
        if chosen is not None:
            data["shortlist"] = chosen
        json.dump(data, stdout, ensure_ascii=False, indent=2)
        stdout.write("\n")
    else:
        stdout.write(render(result))
        if chosen is not None:
            stdout.write(f"Shortlist of {args.seats}: {', '.join(chosen) or '(nobody approved)'}\n")
    return 0


def _number(value: Any) -> str:
    """A vote count for people: exact, with a decimal hint for odd fractions."""
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return str(value.numerator)
        if Fraction(float(value)) == value:
            return repr(float(value))
        return f"{value} (≈{float(value):.4g})"
    return str(value)


def _matrix(title: str, names: list[str], rows: list[list[int]]) -> list[str]:
    width = max([len(n) for n in names] + [len(str(v)) for row in rows for v in row] + [1])
    lines = [title, " " * (width + 2) + " ".join(f"{i + 1:>{width}}" for i in range(len(names)))]
    for i, (name, row) in enumerate(zip(names, rows)):
        cells = " ".join(f"{'-' if i == j else v:>{width}}" for j, v in enumerate(row))
        lines.append(f"{i + 1:>2} {name:<{width}} {cells}".rstrip())
    return lines


def render(result: Result) -> str:
    """The readable report of ``result``."""
    lines = [
        f"Method: {TITLES.get(result.method, result.method)}",
        f"Ballots: {result.ballots} ({result.distinct_ballots} distinct)",
        f"Candidates: {', '.join(result.candidates) or '(none)'}",
        f"Tie-break order: {', '.join(result.tie_break) if result.tie_break else '(none given)'}",
        "",
    ]
    if result.winner is not None:
        lines.append(f"Winner: {result.winner}")
    elif result.tied:
        lines.append(f"Winner: undecided, tie between {', '.join(result.tied)}")
    else:
        lines.append("Winner: none (no candidates)")
    lines.append("Ranking:")
    place = 1
    for group in result.ranking:
        suffix = "  (tied)" if len(group) > 1 else ""
        lines.append(f"  {place}. {' = '.join(group)}{suffix}")
        place += len(group)
    for use in result.tie_break_used:
        lines.append(f"Tie-break used at {use['stage']}: {', '.join(use['tied'])} -> {', '.join(use['resolved'])}")
    lines.append("")
    details = result.details
    names = result.candidates
    if result.method in ("schulze", "ranked_pairs"):
        lines += _matrix("Pairwise preferences (row over column):", names, details["matrix"])
        lines.append("")
    if result.method == "schulze":
        lines += _matrix("Strongest paths (row to column):", names, details["strongest_paths"])
    elif result.method == "ranked_pairs":
        lines.append("Majorities, strongest first:")
        status = {True: "locked", False: "skipped (would close a cycle)",
                  None: "depends on the order of equal majorities"}
        for pair in details["pairs"]:
            lines.append(f"  {pair['winner']} > {pair['loser']}  {pair['for']} to {pair['against']}: "
                         f"{status[pair['locked']]}")
        if "undecided" in details:
            lines.append(f"Undecided: {details['undecided']}")
    elif result.method == "irv":
        for entry in details["rounds"]:
            lines.append(f"Round {entry['round']}: {_number(entry['continuing_votes'])} votes counted, "
                         f"{_number(entry['exhausted'])} exhausted")
            for name, votes in sorted(entry["votes"].items(), key=lambda kv: -kv[1]):
                lines.append(f"  {name}: {_number(votes)}")
            if "elected" in entry:
                lines.append(f"  elected: {entry['elected']} (majority of the votes counted)"
                             if len(entry["votes"]) > 1 else f"  elected: {entry['elected']} (last candidate)")
            if "tie" in entry:
                lines.append(f"  tie: {', '.join(entry['tie'])}")
            if "note" in entry:
                lines.append(f"  {entry['note']}")
            if "possible_winners" in entry:
                lines.append(f"  possible winners: {', '.join(entry['possible_winners'])}")
            if "eliminated" in entry:
                lines.append(f"  eliminated: {', '.join(entry['eliminated'])}")
                moves = ", ".join(f"{k} +{_number(v)}" for k, v in entry["transfers"].items())
                lines.append(f"  transfers: {moves or 'none'}")
    else:
        lines.append("Scores:")
        for name, score in sorted(details["scores"].items(), key=lambda kv: -kv[1]):
            lines.append(f"  {name}: {_number(score)}")
        if "blank" in details:
            lines.append(f"Blank ballots: {details['blank']}")
    return "\n".join(lines) + "\n"
