"""The audit log's hash chain: each entry's hash covers its content and the previous entry's hash.

Editing, removing or reordering an entry in the database breaks the chain at that point, and
:func:`first_break` finds it. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Mapping

from capital.domain.messages import N_

# The hash "before" the first entry.
GENESIS = "0" * 64

# The fields an entry's hash covers, besides the previous hash.
FIELDS = ("seq", "id", "dt", "actor_id", "actor_label", "action", "object_type", "object_id", "cycle_id", "data")


def _utc_text(value: datetime) -> str:
    # Naive datetimes come from SQLite, which keeps UTC without an offset.
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(fields: Mapping, prev_hash: str) -> bytes:
    """The bytes an entry's hash is taken over: sorted-key JSON of its fields and the previous hash."""
    document = {name: fields[name] for name in FIELDS}
    document["dt"] = _utc_text(document["dt"])
    document["prev_hash"] = prev_hash
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(fields: Mapping, prev_hash: str) -> str:
    """The SHA-256 (hex) chaining an entry with these ``fields`` to ``prev_hash``."""
    return hashlib.sha256(canonical(fields, prev_hash)).hexdigest()


# What is wrong where the chain breaks, as the audit log page says it (``problem`` says it to the CLI).
BREAK_TITLES = {
    "unchained": N_("This entry has no place in the chain (no sequence number or hash)."),
    "missing": N_("The sequence jumps here: entries before this one were removed or reordered."),
    "repeated": N_("This sequence number comes again: entries were reordered or copied."),
    "previous": N_("This entry does not follow the one before it: an entry before it was removed, reordered "
                   "or changed."),
    "content": N_("This entry was edited: its content no longer matches its hash."),
}


@dataclass(frozen=True)
class Break:
    """The first place where the chain does not hold; ``kind`` is a key of :data:`BREAK_TITLES`."""

    entry_id: int | None
    seq: int | None
    problem: str
    kind: str


@dataclass(frozen=True)
class Summary:
    entries: int
    head_seq: int | None
    head_hash: str


def first_break(entries: Iterable[Mapping]) -> Break | Summary:
    """Walk ``entries`` (mappings with :data:`FIELDS`, ``prev_hash`` and ``entry_hash``, in ``seq``
    order) and return the first :class:`Break`, or a :class:`Summary` of an intact chain."""
    expected_prev, expected_seq, count = GENESIS, 1, 0
    for row in entries:
        entry_id, seq = row["id"], row["seq"]
        if seq is None or row["entry_hash"] is None:
            return Break(entry_id, seq, "entry is not chained (no sequence number or hash)", "unchained")
        if seq != expected_seq:
            kind = "missing" if seq > expected_seq else "repeated"
            return Break(entry_id, seq, f"sequence number {seq} where {expected_seq} was expected "
                                        f"(entries {kind}: removed or reordered)", kind)
        if row["prev_hash"] != expected_prev:
            return Break(entry_id, seq, "previous hash does not match the entry before it "
                                        "(an entry before it was removed, reordered or changed)", "previous")
        if entry_hash(row, row["prev_hash"]) != row["entry_hash"]:
            return Break(entry_id, seq, "content does not match its hash (the entry was edited)", "content")
        expected_prev, expected_seq, count = row["entry_hash"], seq + 1, count + 1
    return Summary(count, expected_seq - 1 if count else None, expected_prev)
