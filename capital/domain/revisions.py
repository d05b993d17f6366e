"""Versions of a dossier, so that two people editing it never overwrite each other unseen.

A dossier is seen as a flat snapshot: field name -> plain value (text, number, list of
texts, or ``None``). Every save that changes something stores only what it changed
(``field -> [before, after]``) and moves the version on by one. A save, upload or submission
carries the version it started from; when the dossier has moved on since, it is refused and
the person is shown who saved in between, when, and :func:`changes_since` (docs/rules.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from capital.domain.messages import Message, N_, RuleViolation

Snapshot = Mapping[str, Any]
Changes = dict[str, list]
_MAX_VERSION = 2**31 - 1  # what the integer column holds


def diff(before: Snapshot, after: Snapshot) -> Changes:
    """What ``after`` changed in ``before``: ``{field: [value before, value after]}``, fields in order.

    A field missing on one side counts as ``None`` there; an unchanged field is left out.
    """
    fields = list(before) + [name for name in after if name not in before]
    return {name: [before.get(name), after.get(name)] for name in fields if before.get(name) != after.get(name)}


def changes_since(revisions: Iterable[Changes]) -> Changes:
    """The net change of several revisions, oldest first: each field's value before the first of
    them and after the last; a field changed and then changed back is left out."""
    net: Changes = {}
    for changes in revisions:
        for name, (before, after) in changes.items():
            net[name] = [net[name][0] if name in net else before, after]
    return {name: values for name, values in net.items() if values[0] != values[1]}


def merge(changes: Changes, typed: Snapshot) -> dict[str, str]:
    """How each field changed in between (``changes``, from :func:`changes_since`) meets what the
    person typed from the older version (``typed``, only the fields a form holds):

    - ``"taken"``: they left the field as it was, so the new value can go into their form;
    - ``"same"``: they made the same change;
    - ``"clash"``: they changed it otherwise: their typing stays, for them to decide;
    - ``"saved"``: not a field of the form (a file, the state): it stays as saved.
    """
    outcome = {}
    for name, (before, after) in changes.items():
        if name not in typed:
            outcome[name] = "saved"
        elif typed[name] == after:
            outcome[name] = "same"
        elif typed[name] == before:
            outcome[name] = "taken"
        else:
            outcome[name] = "clash"
    return outcome


def parse_version(value: Any) -> int | None:
    """The version a form carried: a positive whole number, or ``None`` when absent or garbled."""
    text = "" if value is None else str(value).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 1 <= number <= _MAX_VERSION else None


class StaleVersion(RuleViolation):
    """A change made from an older version than the dossier's current one.

    ``started_from`` is the version the person's page showed, ``current`` the dossier's version now.
    """

    def __init__(self, started_from: int | None, current: int) -> None:
        super().__init__(Message(
            N_("Someone saved this dossier after you opened it, so nothing of yours was saved yet."),
            {}, "nomination.stale_version"))
        self.started_from = started_from
        self.current = current


def check_version(started_from: int | None, current: int) -> None:
    """Raise :class:`StaleVersion` unless the change starts from the ``current`` version.

    A change that carries no readable version is refused too: it cannot show it saw the latest one.
    """
    if started_from != current:
        raise StaleVersion(started_from, current)
