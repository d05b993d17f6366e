"""Ranked ballots: the data model and the published ballot file format.

A ballot file (docs/ballot-file.md) holds one ballot per line::

    # the 2031 board vote
    3: Montréal > Córdoba = Venlo > Düsseldorf
    Venlo > Montréal

- ``N:`` at the start of a line is an optional weight: the line counts as N
  identical ballots (a positive integer; default 1).
- ``>`` separates preferences from the most to the least preferred; ``=``
  joins candidates ranked equal.
- Candidates a ballot does not rank are ranked equal last, below every ranked
  candidate.  A line holding only a weight (``2:``) is a ballot that ranks
  nobody: it is counted in the turnout but expresses no preference.
- ``#`` starts a comment that runs to the end of the line; blank lines are
  ignored.  Lines end at ``\n`` (a ``\r`` before it is ignored as space).  Candidate names are therefore any text without ``>``, ``=``,
  ``#``, ``:`` or line breaks; they are compared after Unicode NFC
  normalisation, with surrounding spaces removed and inner runs of spaces
  collapsed, so ``Montréal`` typed with a combining accent is still Montréal.

A malformed line is an error that names its line and column (both counted
from 1, columns in characters): an empty preference, a candidate named twice
on one ballot, a bad weight, or an unknown candidate when the candidate list
is given.  A file with errors is rejected as a whole: :class:`BallotError`
lists every error and nothing is counted.

A file is UTF-8 text; :func:`parse_ballots` takes it decoded (``str``) or as
the raw bytes of the file (``bytes``, what the command line reads).  A byte
order mark at the start of the file is ignored, and bytes that are not UTF-8
are an error naming their line and column like any other.

Identical ballots are grouped: :func:`parse_ballots` counts identical lines
(as raw text or bytes) in one pass over the file, before decoding or parsing
any of them, and an :class:`Election` keeps one :class:`Ballot` per distinct
ranking with the summed weight; beyond that pass, the cost of parsing and
counting grows with the number of *distinct* ballots.

The distinct lines then take a fast path when they are written plainly
(``A > B > C`` or ``7: A > B``, names spelled exactly as the candidates'):
they are read as one buffer of UTF-8 bytes by numpy, each name compared byte
for byte with the candidates' and assembled into the rank positions the
methods count from (see :func:`_parse_fast` for why this
reads them exactly as the careful parser would).  Every other line is
parsed carefully, and any malformed line sends the whole file to the
careful parser, so errors are always reported the same way.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = [
    "Ballot",
    "BallotError",
    "Election",
    "LineError",
    "ballots_from_rankings",
    "format_ballot",
    "format_ballots",
    "normalize_name",
    "parse_ballots",
]

#: Characters that cannot appear in a candidate name.
RESERVED = frozenset(">=#:\n\r")

_WEIGHT = re.compile(r"\s*(\d+)\s*$")
_SPACES = re.compile(r"\s+")
# Every error is reported, but a garbage file must not produce a garbage report.
_MAX_ERRORS = 50


@dataclass(frozen=True)
class LineError:
    """One problem in a ballot file: where it is and what it is."""

    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


class BallotError(ValueError):
    """Invalid ballots or election parameters; nothing was counted.

    ``errors`` lists every :class:`LineError` found (for ballot files); errors
    that concern no line (a bad candidate list, a bad tie-break order, a bad
    ballot given as Python data) have ``errors == []``.
    """

    def __init__(self, message: str, errors: Sequence[LineError] = ()):
        super().__init__(message)
        self.errors = list(errors)


def normalize_name(name: str) -> str:
    """Return the canonical form of a candidate name (NFC, single spaces, stripped)."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", name)).strip()


@dataclass(frozen=True)
class Ballot:
    """A ranked ballot: groups of equally ranked candidates, best first.

    ``ranking`` is a sequence of groups, e.g. ``[["Montréal"], ["Córdoba",
    "Venlo"], ["Düsseldorf"]]``; ``weight`` is how many voters cast it.
    Candidates missing from ``ranking`` are ranked equal last.  The ballot is
    stored in canonical form (tuples, names normalised, each group sorted) so
    that equal ballots compare and hash equal; it is validated when it joins
    an :class:`Election`.
    """

    ranking: tuple[tuple[str, ...], ...]
    weight: int = 1

    def __post_init__(self) -> None:
        groups = tuple(
            tuple(sorted(normalize_name(name) for name in group)) for group in self.ranking
        )
        object.__setattr__(self, "ranking", groups)

    @classmethod
    def _canonical(cls, ranking: tuple[tuple[str, ...], ...], weight: int) -> Ballot:
        """Build a ballot whose ranking is already in canonical form (no re-normalising)."""
        ballot = object.__new__(cls)
        fields = ballot.__dict__
        fields["ranking"] = ranking
        fields["weight"] = weight
        return ballot

    def names(self) -> list[str]:
        """Every candidate this ballot ranks, best first."""
        return [name for group in self.ranking for name in group]


@dataclass(frozen=True)
class Election:
    """Candidates and grouped ballots, ready to be counted.

    ``candidates`` is the candidate list in a fixed display order (the given
    list, or the order of first appearance in the ballots).  That order is
    used only to lay out reports: no method ever uses it to decide anything.
    ``ballots`` holds one :class:`Ballot` per distinct ranking, with the
    weights of identical ballots summed.

    An election read by the fast path of :func:`parse_ballots` is built
    from the rank positions of its ballots: its ``ballots`` and
    ``rankings`` are made when first used (the pairwise methods never need
    them), and it compares equal to the same election built any other way.
    """

    candidates: tuple[str, ...]
    ballots: tuple[Ballot, ...]
    index: dict[str, int] = field(init=False, repr=False, compare=False)
    rankings: tuple[tuple[tuple[int, ...], ...], ...] = field(init=False, repr=False, compare=False)
    weights: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {name: i for i, name in enumerate(self.candidates)}
        object.__setattr__(self, "index", index)
        # Groups repeat across ballots: convert each distinct group once.
        group_index = _GroupIndex(index)
        convert = group_index.__getitem__
        object.__setattr__(
            self, "rankings", tuple([tuple(map(convert, b.ranking)) for b in self.ballots])
        )
        object.__setattr__(self, "weights", tuple([b.weight for b in self.ballots]))

    @property
    def total_weight(self) -> int:
        """The number of ballots cast (weights included)."""
        return sum(self.weights)

    @classmethod
    def from_ballots(
        cls, ballots: Iterable[Ballot], candidates: Sequence[str] | None = None
    ) -> Election:
        """Validate ``ballots`` and group identical ones.

        With ``candidates`` given, every ranked name must be one of them;
        without, the candidates are the names ranked on some ballot, in order
        of first appearance.  Raises :class:`BallotError` on an unknown or
        repeated candidate, an empty group, or a weight that is not a
        positive integer.
        """
        known = _candidate_list(candidates)
        seen: dict[str, None] = dict.fromkeys(known or ())
        grouped: Counter[tuple[tuple[str, ...], ...]] = Counter()
        for number, ballot in enumerate(ballots, start=1):
            if not isinstance(ballot, Ballot):
                raise BallotError(f"ballot {number}: expected a Ballot, got {type(ballot).__name__}")
            weight = ballot.weight
            if isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
                raise BallotError(f"ballot {number}: weight must be a positive integer, not {weight!r}")
            on_ballot: set[str] = set()
            for group in ballot.ranking:
                if not group:
                    raise BallotError(f"ballot {number}: empty preference")
                for name in group:
                    if not name or RESERVED.intersection(name):
                        raise BallotError(f"ballot {number}: invalid candidate name {name!r}")
                    if name in on_ballot:
                        raise BallotError(f"ballot {number}: {name} is ranked twice")
                    if known is not None and name not in seen:
                        raise BallotError(f"ballot {number}: unknown candidate {name}")
                    on_ballot.add(name)
                    seen.setdefault(name)
            grouped[ballot.ranking] += weight
        return cls(
            candidates=tuple(seen),
            ballots=tuple(Ballot._canonical(ranking, weight) for ranking, weight in grouped.items()),
        )


    @classmethod
    def _compact(cls, candidates: list[str], positions: np.ndarray, weights: np.ndarray) -> Election:
        """An election given by the rank positions of its distinct ballots (see :func:`.pairwise.rank_positions`).

        ``ballots`` and ``rankings`` are built from ``positions`` only when
        first asked for: counting by a pairwise method never needs them.
        """
        election = object.__new__(cls)
        fields = election.__dict__
        fields["candidates"] = tuple(candidates)
        fields["index"] = {name: i for i, name in enumerate(candidates)}
        fields["weights"] = tuple(weights.tolist())
        fields["_positions"] = positions
        return election

    def __getattr__(self, name: str) -> Any:
        # Only reached for the fields a compact election builds on first use.
        if name not in ("ballots", "rankings") or "_positions" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        if name == "ballots":
            ballots = self.__dict__["ballots"] = self._materialize_ballots()
            return ballots
        candidates = self.candidates
        n = len(candidates)
        positions = self._positions
        # Each ballot's candidates by place, those of one place by name (the canonical group order).
        by_name = np.argsort(np.argsort(np.array(candidates, dtype=object), kind="stable"), kind="stable")
        order = np.argsort(positions.astype(np.int64) * n + by_name, axis=1, kind="stable")
        places = np.take_along_axis(positions, order, axis=1)
        ranked = (positions < n).sum(axis=1)
        strict = (positions.max(axis=1, initial=0, where=positions < n) + 1 == ranked) | (ranked == 0)
        ones = [(c,) for c in range(n)]
        rankings: list[tuple[tuple[int, ...], ...]] = [()] * len(positions)
        for size in range(n + 1):
            rows = np.flatnonzero(strict & (ranked == size))
            for b, row in zip(rows.tolist(), order[rows, :size].tolist()):
                rankings[b] = tuple(map(ones.__getitem__, row))
        for b in np.flatnonzero(~strict).tolist():
            groups: dict[int, list[int]] = {}
            for c, place in zip(order[b].tolist(), places[b].tolist()):
                if place < n:
                    groups.setdefault(place, []).append(c)
            rankings[b] = tuple(tuple(groups[place]) for place in sorted(groups))
        fields = self.__dict__
        fields["rankings"] = tuple(rankings)
        return fields[name]

    def _materialize_ballots(self) -> tuple[Ballot, ...]:
        """The :class:`Ballot` objects of a compact election, from its rankings."""
        candidates = self.candidates
        names = _GroupNames(candidates).__getitem__  # groups repeat across ballots: name each once
        return tuple([Ballot._canonical(tuple(map(names, ranking)), weight)
                      for ranking, weight in zip(self.rankings, self.weights)])


class _GroupNames(dict):
    """Group of candidate indices -> tuple of their names, filled on first use."""

    def __init__(self, candidates: tuple[str, ...]):
        super().__init__()
        self._name = candidates.__getitem__

    def __missing__(self, group: tuple[int, ...]) -> tuple[str, ...]:
        value = self[group] = tuple(map(self._name, group))
        return value


class _GroupIndex(dict):
    """Group of names -> tuple of candidate indices, filled on first use."""

    def __init__(self, index: dict[str, int]):
        super().__init__()
        self._position = index.__getitem__

    def __missing__(self, group: tuple[str, ...]) -> tuple[int, ...]:
        value = self[group] = tuple(map(self._position, group))
        return value


def _candidate_list(candidates: Sequence[str] | None) -> list[str] | None:
    """Normalise and check a candidate list (``None`` stays ``None``)."""
    if candidates is None:
        return None
    if isinstance(candidates, str):
        raise BallotError("the candidate list must be a sequence of names, not a string")
    names = [normalize_name(c) for c in candidates]
    for name in names:
        if not name or RESERVED.intersection(name):
            raise BallotError(f"invalid candidate name {name!r}")
    duplicates = sorted(n for n, count in Counter(names).items() if count > 1)
    if duplicates:
        raise BallotError(f"candidate listed twice: {', '.join(duplicates)}")
    return names


def ballots_from_rankings(
    rankings: Iterable[Sequence[Sequence[str]] | Ballot], candidates: Sequence[str] | None = None
) -> Election:
    """Build an :class:`Election` from Python data, one ranking per voter.

    Each ranking is a list of groups of names, best first, as the web app
    stores ballots: ``[["Montréal"], ["Córdoba", "Venlo"], ["Düsseldorf"]]``.
    :class:`Ballot` objects (with weights) may be mixed in.  Same validation
    as :meth:`Election.from_ballots`.
    """
    grouped: Counter[tuple[tuple[str, ...], ...]] = Counter()
    ballots: list[Ballot] = []
    for ranking in rankings:
        if isinstance(ranking, Ballot):
            ballots.append(ranking)
        elif isinstance(ranking, str):
            raise BallotError("a ranking must be a list of groups of names, not a string")
        else:
            # Group raw rankings before building Ballot objects: cost follows distinct ballots.
            grouped[tuple(tuple(group) for group in ranking)] += 1
    ballots.extend(Ballot(ranking, weight) for ranking, weight in grouped.items())
    return Election.from_ballots(ballots, candidates)


_BOM = "\ufeff"
_BOM_BYTES = _BOM.encode("utf-8")
# Lines are counted a slice of the file at a time: the short-lived line
# objects then stay few and in cache, and no million-item list is built.
_CHUNK = 1 << 16


def _count_lines(text: str | bytes) -> dict[str | bytes, int]:
    """How many times each line of ``text`` occurs, in order of first appearance.

    Lines end at ``\n`` (kept out of the line); the text after the last
    ``\n``, even empty, is a line too.
    """
    newline = "\n" if isinstance(text, str) else b"\n"
    size = len(text)
    if size <= _CHUNK:
        return Counter(text.split(newline))
    counts: Counter[str | bytes] = Counter()
    update = counts.update
    find, rfind = text.find, text.rfind
    start = 0
    while True:
        stop = start + _CHUNK
        if stop >= size:
            update(text[start:].split(newline))
            return counts
        end = rfind(newline, start, stop)
        if end < 0:  # a line longer than a chunk
            end = find(newline, stop)
            if end < 0:
                update((text[start:],))
                return counts
        update(text[start:end].split(newline))
        start = end + 1


def _without_bom(text: str | bytes, counts: dict[str | bytes, int]) -> dict[str | bytes, int]:
    """``counts`` with the byte order mark taken off the first line (kept first)."""
    newline = "\n" if isinstance(text, str) else b"\n"
    end = text.find(newline)
    first = text if end < 0 else text[:end]
    bare = first[len(_BOM) if isinstance(text, str) else len(_BOM_BYTES):]
    fixed: dict[str | bytes, int] = {bare: 1}
    for line, count in counts.items():
        if line == first:
            count -= 1
        if count:
            fixed[line] = fixed.get(line, 0) + count
    return fixed


def parse_ballots(text: str | bytes, candidates: Sequence[str] | None = None) -> Election:
    """Parse a ballot file (see the module docstring) into an :class:`Election`.

    ``text`` is the file's text, or its raw UTF-8 bytes (``bytes``,
    ``bytearray`` or ``memoryview``), which is faster: only the distinct
    lines are ever decoded.  With ``candidates`` given, they are the
    election's candidates (in that display order) and any other name is an
    error; without, the candidates are the names found in the file, in
    order of first appearance.  Raises :class:`BallotError` listing every
    malformed line (bytes that are not UTF-8 included); nothing is counted
    from a file with errors.
    """
    return _parse(text, candidates, fast=True)


def _parse(text: str | bytes, candidates: Sequence[str] | None, fast: bool) -> Election:
    """:func:`parse_ballots`, by the fast path where it applies (``fast``) or line by line."""
    known = _candidate_list(candidates)
    if isinstance(text, (bytearray, memoryview)):
        text = bytes(text)
    if not isinstance(text, (bytes, str)):
        raise TypeError(f"ballots must be str or bytes, not {type(text).__name__}")
    # Identical lines are decoded and parsed once: the cost follows distinct ballots.
    line_counts = _count_lines(text)
    if text.startswith(_BOM_BYTES if isinstance(text, bytes) else _BOM):
        line_counts = _without_bom(text, line_counts)
    election = _parse_fast(line_counts, known, isinstance(text, bytes)) if fast else None
    if election is None:  # also when a line is malformed: the careful parser reports every error
        election = _parse_carefully(text, line_counts, known)
    return election


def _parse_carefully(
    text: str | bytes, line_counts: dict[str | bytes, int], known: list[str] | None
) -> Election:
    """:func:`parse_ballots` line by line: every line checked, every error reported.

    The reference that :func:`_parse_fast` agrees with.
    """
    raw = isinstance(text, bytes)
    allowed = None if known is None else frozenset(known)
    grouped: dict[tuple[tuple[str, ...], ...], int] = {}
    seen: dict[str, None] = dict.fromkeys(known or ())
    bad: dict[str | bytes, list[tuple[int, str]]] = {}
    names: dict[str, tuple[str]] = {}  # raw text -> (normalised name,): names repeat on every line
    for line, count in line_counts.items():
        if raw:
            try:
                decoded = line.decode("utf-8")
            except UnicodeDecodeError as error:
                bad[line] = [_decode_error(line, error)]
                continue
        else:
            decoded = line
        parsed = _parse_line(decoded, allowed, names)
        if parsed is None:
            continue
        if isinstance(parsed, list):
            bad[line] = parsed
            continue
        weight, ranking = parsed
        grouped[ranking] = grouped.get(ranking, 0) + weight * count
        for group in ranking:
            for name in group:
                if name not in seen:
                    seen[name] = None
    if bad:
        raise _file_error(text, bad)
    return Election(
        candidates=tuple(seen),
        ballots=tuple([Ballot._canonical(ranking, weight) for ranking, weight in grouped.items()]),
    )


# The fast path keys a strict ranking by an int64: 6 bits per preference.
_KEY_BITS = 6
_KEY_PLACES = 63 // _KEY_BITS
_MAX_FAST_CANDIDATES = (1 << _KEY_BITS) - 1
# Candidate names are learnt from the careful parse of the first distinct lines.
_LEARN_LINES = 256
# Distinct lines read in bulk at a time: the pieces of a batch are short-lived.
_BATCH = 1 << 13
_COMMENT_BYTES = re.compile(b"#[^\n]*")


def _parse_fast(
    line_counts: dict[str | bytes, int], known: list[str] | None, raw: bool
) -> Election | None:
    """The :class:`Election` that :func:`_parse_carefully` builds, or ``None``.

    The distinct lines are read in bulk: stripped of comments and of the
    whitespace around them, split at ``" > "`` and their pieces compared
    with the candidate names (spelled exactly, in canonical form, as UTF-8
    bytes; text is encoded first), all with numpy (:func:`_read_plain`).  A
    line whose every piece is a known name, with no name repeated and at
    most :data:`_KEY_PLACES` preferences, optionally after a weight written
    ``7: `` (ASCII digits), is a strict ranking that the careful parser
    could only read the same way: it drops comments and the whitespace
    around names too, and a name cannot hold ``>``, ``=``, ``#`` or ``:``,
    so nothing else in the line can mean anything.  Every other line
    (equal ranks, other spacing, a name not yet known…) goes to the careful
    parser, one distinct line at a time.  ``None`` means the fast path does not apply or met a malformed
    line: the caller then parses carefully, which reports every error.
    Candidates and ballots come in the careful parser's order.
    """
    lines = list(line_counts)
    allowed = None if known is None else frozenset(known)
    cache: dict[str, tuple[str]] = {}
    names: list[str] | None = list(known) if known is not None else _learn_names(lines[:_LEARN_LINES], raw, cache)
    if names is None or len(names) > _MAX_FAST_CANDIDATES:
        return None
    index = {name: i for i, name in enumerate(names)}
    spelled = {name.encode("utf-8"): i for name, i in index.items()}
    read = [_read_plain(lines[at : at + _BATCH], spelled, raw) for at in range(0, len(lines), _BATCH)]
    if any(part is None for part in read):
        return None
    keys, multipliers, ok, blank = (np.concatenate(column) for column in zip(*read))
    weights = np.fromiter(line_counts.values(), dtype=np.int64, count=len(lines)) * multipliers
    fast = np.flatnonzero(ok)
    # The other lines, in file order: parsed carefully; their names may be new.
    extra: dict[int | tuple[tuple[int, ...], ...], list[int]] = {}  # key -> [weight, first line]
    for line_number in np.flatnonzero(~ok & ~blank).tolist():
        line = lines[line_number]
        try:
            parsed = _parse_line(line.decode("utf-8") if raw else line, allowed, cache)
        except UnicodeDecodeError:
            return None
        if parsed is None:
            continue
        if isinstance(parsed, list):
            return None
        weight, ranking = parsed
        for group in ranking:
            for name in group:
                if name not in index:
                    index[name] = len(names)
                    names.append(name)
        if len(names) > _MAX_FAST_CANDIDATES:
            return None
        if len(ranking) <= _KEY_PLACES and all(len(group) == 1 for group in ranking):
            key: int | tuple[tuple[int, ...], ...] = sum(
                (index[group[0]] + 1) << (_KEY_BITS * place) for place, group in enumerate(ranking))
        else:
            key = tuple(tuple(index[name] for name in group) for group in ranking)
        entry = extra.setdefault(key, [0, line_number])
        entry[0] += weight * line_counts[line]
    # Weights are summed in int64: hand anything near its limit to the careful parser.
    if sum(weights[fast].tolist()) + sum(entry[0] for entry in extra.values()) >= 1 << 62:
        return None
    distinct, first_at, inverse = np.unique(keys[fast], return_index=True, return_inverse=True)
    summed = np.zeros(len(distinct), dtype=np.int64)
    np.add.at(summed, inverse, weights[fast])
    first = fast[first_at]
    n = len(names)
    if extra:
        # Careful lines that gave a ranking also read fast elsewhere join its count.
        where = {key: i for i, key in enumerate(distinct.tolist())}
        others = []
        for key, (weight, line_number) in extra.items():
            i = where.get(key) if isinstance(key, int) else None
            if i is None:
                others.append((line_number, key, weight))
            else:
                summed[i] += weight
                first[i] = min(int(first[i]), line_number)
    else:
        others = []
    positions = np.full((len(distinct) + len(others), n), n, dtype=np.int32)
    rest = distinct.copy()
    for place in range(_KEY_PLACES):
        candidate = (rest & _MAX_FAST_CANDIDATES) - 1
        rows = np.flatnonzero(candidate >= 0)
        positions[rows, candidate[rows]] = place
        rest >>= _KEY_BITS
    all_first = np.concatenate([first, np.array([o[0] for o in others], dtype=np.int64)])
    all_weights = np.concatenate([summed, np.array([o[2] for o in others], dtype=np.int64)])
    for row, (_, key, _) in enumerate(others, start=len(distinct)):
        if isinstance(key, int):
            key = tuple(((key >> (_KEY_BITS * p)) & _MAX_FAST_CANDIDATES) - 1 for p in range(_KEY_PLACES))
            key = tuple((c,) for c in key if c >= 0)
        for place, group in enumerate(key):
            positions[row, list(group)] = place
    order = np.argsort(all_first, kind="stable")
    return Election._compact(names, positions[order], all_weights[order])


def _read_plain(
    lines: list[str | bytes], spelled: dict[bytes, int], raw: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Read ``lines`` by the fast path of :func:`_parse_fast`.

    Returns, for each line, its ranking's key, its weight (0 if unread), whether
    it was read (a strict ranking of known names) and whether it is blank once
    its comment and surrounding spaces are gone; ``None`` if bytes that are not
    UTF-8 sit in a comment (the careful parser then says where).

    The lines are read as one buffer of UTF-8 bytes (text is encoded first), by
    numpy: no Python object is made per name, so the cost follows the bytes of
    the distinct lines.  Every piece between the separators ``" > "`` is
    compared, byte for byte, with the candidate of its length it may be.
    """
    newline = "\n" if not raw else b"\n"
    joined = newline.join(lines)
    if not raw:
        joined = joined.encode("utf-8", "surrogatepass")  # a lone surrogate matches no name
    if b"#" in joined:
        if raw and not _is_utf8(joined):  # bytes in a comment are checked too
            return None
        joined = _COMMENT_BYTES.sub(b"", joined)
    # Comments and the spaces around a line go (a "\r" before its "\n" too), as the
    # careful parser drops them.
    data = b"\n".join(map(bytes.strip, joined.split(b"\n"))) if _has_space_to_strip(joined) else joined
    buf = np.frombuffer(data, dtype=np.uint8)
    size = buf.size
    breaks = np.flatnonzero(buf == 10)
    line_start = np.concatenate(([0], breaks + 1))
    line_end = np.concatenate((breaks, [size]))
    n_lines = line_start.size
    weights, body_start, unread = _read_weights(buf, line_start, line_end)
    if size >= 3:
        separator = np.flatnonzero((buf[:-2] == 32) & (buf[1:-1] == 62) & (buf[2:] == 32))  # " > "
    else:
        separator = np.zeros(0, dtype=np.int64)
    # Each line's pieces: from the start of its preferences to the first separator, between
    # separators, and from the last one to the end of the line; every line has at least one.
    before_line = np.searchsorted(separator, line_start)
    spans = 1 + np.diff(before_line, append=separator.size)
    unread |= np.searchsorted(separator, body_start) > before_line  # a separator inside "7: "
    segment = np.cumsum(spans) - spans  # where each line's pieces start
    starts = np.empty(segment[-1] + spans[-1], dtype=np.int64)
    ends = np.empty_like(starts)
    first_piece = np.zeros(starts.size, dtype=bool)
    first_piece[segment] = True
    starts[first_piece] = body_start
    starts[~first_piece] = separator + 3
    last_piece = np.zeros(starts.size, dtype=bool)
    last_piece[segment + spans - 1] = True
    ends[last_piece] = line_end
    ends[~last_piece] = separator
    lengths = ends - starts
    token = np.full(starts.size, -1, dtype=np.int64)  # -1: not a known name
    by_length: dict[int, list[tuple[bytes, int]]] = {}
    for name, number in spelled.items():
        by_length.setdefault(len(name), []).append((name, number))
    for length, names in by_length.items():
        pieces = np.flatnonzero(lengths == length)
        if not pieces.size or length > size:
            continue
        # Every run of ``length`` bytes of the buffer as one value, without a copy: the
        # pieces' bytes are then taken and compared whole.
        runs = as_strided(buf, (size - length + 1, length), (1, 1)).view(f"V{length}")[:, 0]
        spelled_here = runs[starts[pieces]]
        for name, number in names:
            token[pieces[spelled_here == np.void(name)]] = number
    segment = np.cumsum(spans) - spans  # where each line's pieces start
    place = np.arange(token.size) - np.repeat(segment, spans)
    known_piece = token >= 0
    fits = known_piece & (place < _KEY_PLACES)
    key_part = np.where(fits, (token + 1) << (_KEY_BITS * np.clip(place, 0, _KEY_PLACES - 1)), 0)
    keys = np.add.reduceat(key_part, segment)
    bits = np.bitwise_or.reduceat(np.where(known_piece, np.left_shift(1, np.maximum(token, 0)), 0), segment)
    ok = ((weights > 0) & ~unread & (np.add.reduceat(fits.astype(np.int64), segment) == spans)
          & (np.bitwise_count(bits) == spans))
    # Nothing left once comments and spaces are gone: no ballot, as the careful parser says.
    blank = line_end == line_start
    return keys, weights, ok, blank


def _read_weights(
    buf: np.ndarray, line_start: np.ndarray, line_end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each line's weight (1 without one, 0 if written otherwise than ``7: ``), where its
    preferences start, and whether it holds a ``:`` the fast path does not read."""
    n_lines = line_start.size
    colon = np.flatnonzero(buf == 58)
    on_line = np.searchsorted(line_start, colon, side="right") - 1
    per_line = np.bincount(on_line, minlength=n_lines)
    unread = per_line > 1
    weights = np.ones(n_lines, dtype=np.int64)
    body_start = line_start.copy()
    single = per_line[on_line] == 1
    colon, on_line = colon[single], on_line[single]
    first = line_start[on_line]
    digits = colon - first
    followed = buf[np.minimum(colon + 1, buf.size - 1)] == 32
    valid = (digits >= 1) & (digits <= 9) & followed & (colon + 1 < line_end[on_line])
    value = np.zeros(colon.size, dtype=np.int64)
    for offset in range(9):
        more = valid & (offset < digits)
        digit = buf[first[more] + offset].astype(np.int64) - 48
        valid[more] &= (digit >= 0) & (digit <= 9)
        value[more] = value[more] * 10 + digit
    value[~valid] = 0
    weights[on_line] = value  # 0 when not valid: the line is then read carefully
    body_start[on_line] = np.minimum(colon + 2, line_end[on_line])
    return weights, body_start, unread


def _has_space_to_strip(data: bytes) -> bool:
    """Whether a line of ``data`` starts or ends with what ``bytes.strip`` removes."""
    return (data[:1].isspace() or data[-1:].isspace() or b" \n" in data or b"\n " in data
            or any(space in data for space in (b"\t", b"\r", b"\x0b", b"\x0c")))


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _learn_names(lines: list[str | bytes], raw: bool, cache: dict[str, tuple[str]]) -> list[str] | None:
    """The names ranked on ``lines``, in order of first appearance (``None`` if one is malformed)."""
    seen: dict[str, None] = {}
    for line in lines:
        try:
            parsed = _parse_line(line.decode("utf-8") if raw else line, None, cache)
        except UnicodeDecodeError:
            return None
        if isinstance(parsed, list):
            return None
        if parsed is not None:
            seen.update(dict.fromkeys(name for group in parsed[1] for name in group))
    return list(seen)


def _decode_error(line: bytes, error: UnicodeDecodeError) -> tuple[int, str]:
    """``(column, message)`` for a line that is not UTF-8 (column in characters)."""
    column = len(line[: error.start].decode("utf-8", "replace")) + 1
    return column, f"not UTF-8 (byte 0x{line[error.start]:02x})"


def _parse_line(
    line: str, allowed: frozenset[str] | None, names: dict[str, tuple[str]]
) -> tuple[int, tuple[tuple[str, ...], ...]] | list[tuple[int, str]] | None:
    """Parse one line: ``(weight, ranking)``, ``None`` if it holds no ballot,
    or the list of ``(column, message)`` errors found in it.

    ``names`` maps raw name text to the 1-tuple of its valid normalised name
    (a ready-made group); it is filled as names are met, and lets the common
    line (``A > B > C``, names already seen) be parsed without the general
    path.
    """
    if "#" not in line and ":" not in line and "=" not in line:
        ranking = tuple(map(names.get, line.split(">")))
        if None not in ranking and len(set(ranking)) == len(ranking):
            return 1, ranking
    return _parse_line_fully(line, allowed, names)


def _parse_line_fully(
    line: str, allowed: frozenset[str] | None, names: dict[str, tuple[str]]
) -> tuple[int, tuple[tuple[str, ...], ...]] | list[tuple[int, str]] | None:
    """:func:`_parse_line` for any line, reporting every error."""
    body = line.split("#", 1)[0]
    if not body.strip():
        return None
    errors: list[tuple[int, str]] = []
    weight = 1
    start = 0  # offset of the preferences in the line
    if ":" in body:
        head, _, _rest = body.partition(":")
        match = _WEIGHT.fullmatch(head) if head.strip() else None
        if match is None or int(match.group(1)) < 1:
            column = len(head) - len(head.lstrip()) + 1
            errors.append((column, f"bad weight {head.strip()!r}: expected a positive integer before ':'"))
        else:
            weight = int(match.group(1))
        start = len(head) + 1
        colon = body.find(":", start)
        if colon != -1:
            errors.append((colon + 1, "':' may only follow the weight"))
            body = body[:colon]
    ranking: list[tuple[str, ...]] = []
    on_ballot: set[str] = set()
    if body[start:].strip():
        offset = start
        for part in body[start:].split(">"):
            group: list[str] = []
            inner = offset
            for raw in part.split("="):
                known_name = names.get(raw)
                name = known_name[0] if known_name else normalize_name(raw)
                # An empty preference is reported where it should have started.
                column = inner + (len(raw) - len(raw.lstrip()) if name else 0) + 1
                inner += len(raw) + 1
                if not name:
                    errors.append((column, "empty preference"))
                    continue
                if name in on_ballot:
                    errors.append((column, f"{name} is ranked twice"))
                    continue
                if allowed is not None and name not in allowed:
                    errors.append((column, f"unknown candidate {name}"))
                    continue
                names[raw] = (name,)
                on_ballot.add(name)
                group.append(name)
            if group:
                ranking.append(tuple(sorted(group)))
            offset += len(part) + 1
    if errors:
        return errors
    return weight, tuple(ranking)


def _file_error(text: str | bytes, bad: dict[str | bytes, list[tuple[int, str]]]) -> BallotError:
    """Build the error for a rejected file, with the line number of every bad line.

    Only the distinct bad lines are known here: the file is read again to
    find where each of them occurs.
    """
    errors: list[LineError] = []
    lines = text.split("\n" if isinstance(text, str) else b"\n")
    bom = _BOM if isinstance(text, str) else _BOM_BYTES
    if lines[0].startswith(bom):
        lines[0] = lines[0][len(bom) :]
    for number, line in enumerate(lines, start=1):
        if line in bad:
            for column, message in bad[line]:
                errors.append(LineError(number, column, message))
    del lines
    shown = errors[:_MAX_ERRORS]
    lines = [str(e) for e in shown]
    if len(errors) > len(shown):
        lines.append(f"... and {len(errors) - len(shown)} more errors")
    noun = "error" if len(errors) == 1 else "errors"
    message = f"{len(errors)} {noun} in the ballots; nothing was counted\n" + "\n".join(lines)
    return BallotError(message, errors)


def format_ballot(ballot: Ballot) -> str:
    """Render a ballot as one line of the ballot file format."""
    body = " > ".join(" = ".join(group) for group in ballot.ranking)
    if ballot.weight == 1 and body:
        return body
    return f"{ballot.weight}: {body}".rstrip()


def format_ballots(ballots: Iterable[Ballot] | Election) -> str:
    """Render ballots as a ballot file that :func:`parse_ballots` reads back."""
    if isinstance(ballots, Election):
        ballots = ballots.ballots
    return "".join(format_ballot(b) + "\n" for b in ballots)
