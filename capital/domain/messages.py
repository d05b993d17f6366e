"""Marking user-facing text in plain-Python modules, and the shapes rules answer in.

The domain cannot import Flask-Babel, so it marks messages with ``N_`` (extracted by
``pybabel``; see ``babel.cfg``) and the web layer translates them when it shows them:
``gettext(reason.message) % reason.params``.

Every rule answers the same way: a question ("may this city edit its nomination?") returns a
:class:`Decision`; an action that must not go ahead raises a :class:`RuleViolation` (or a subclass)
carrying the :class:`Message` to show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it now."""
    return message


@dataclass(frozen=True)
class Message:
    """A translatable message id with the values it interpolates (``%(name)s``).

    ``code`` is a stable, untranslated identifier (``"eligibility.host_standing"``) for
    programs: tests, stored rule reports, the API. It never changes when the wording does.
    """

    message: str
    params: dict[str, Any] = field(default_factory=dict)
    code: str = ""


class RuleViolation(Exception):
    """An action refused by a business rule; ``reasons`` says why, first reason first."""

    def __init__(self, reason: Message, *more: Message) -> None:
        super().__init__(reason.code or reason.message)
        self.reasons: tuple[Message, ...] = (reason, *more)

    @property
    def reason(self) -> Message:
        return self.reasons[0]


@dataclass(frozen=True)
class Decision:
    """The answer to "is this allowed?": ``ok`` and, when not, every reason why.

    A decision is truthy when ``ok``, so ``if not (d := can_edit(...)): show(d.reasons)`` reads well.
    """

    ok: bool
    reasons: tuple[Message, ...] = ()

    @classmethod
    def allow(cls) -> Decision:
        return cls(True)

    @classmethod
    def refuse(cls, *reasons: Message) -> Decision:
        if not reasons:
            raise ValueError("a refusal needs at least one reason")
        return cls(False, reasons)

    @classmethod
    def from_reasons(cls, reasons: list[Message] | tuple[Message, ...]) -> Decision:
        """Allowed when ``reasons`` is empty, refused with them otherwise."""
        return cls(not reasons, tuple(reasons))

    def __bool__(self) -> bool:
        return self.ok

    def enforce(self) -> None:
        """Raise :class:`RuleViolation` with the reasons if the decision is a refusal."""
        if not self.ok:
            raise RuleViolation(*self.reasons)


class Titled:
    """Mixin for an enum whose members carry a translatable title (``Phase.DRAFT.title``).

    The class gives its titles once, after its members exist: ``TITLES = Enum.set_titles({...})``.
    """

    _titles: dict

    @property
    def title(self) -> str:
        """The untranslated title; the web layer passes it through gettext."""
        return type(self)._titles[self]

    @classmethod
    def set_titles(cls, titles: dict) -> dict:
        """Give every member its title (all of them, or ``ValueError``); returns ``titles``."""
        missing = [member.name for member in cls if member not in titles]
        if missing:
            raise ValueError(f"{cls.__name__} members without a title: {', '.join(missing)}")
        cls._titles = titles
        return titles
