"""Marking user-facing text in plain-Python modules.

The domain cannot import Flask-Babel, so it marks messages with ``N_`` (extracted by
``pybabel``; see ``babel.cfg``) and the web layer translates them when it shows them:
``gettext(reason.message) % reason.params``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it now."""
    return message


@dataclass(frozen=True)
class Message:
    """A translatable message id with the values it interpolates (``%(name)s``)."""

    message: str
    params: dict[str, Any] = field(default_factory=dict)
