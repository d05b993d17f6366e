"""What every blueprint does around a service call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import flash

from capital.domain.messages import RuleViolation
from capital.extensions import db
from capital.forms import add_reasons
from capital.i18n import translate
from capital.services.dispatch import commit


@dataclass(frozen=True)
class Outcome:
    """What :func:`perform` reports: true when the action went through.

    ``value`` is what the action returned; ``errors`` are the reasons it was refused, already
    in the reader's language.
    """

    ok: bool
    value: Any = None
    errors: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.ok


def perform(
    action: Callable[[], Any],
    success: str | Callable[[Any], str] | None = None,
    category: str = "success",
    *,
    flash_errors: bool = True,
    form=None,
    fields: dict[str, str] | None = None,
) -> Outcome:
    """Run a service ``action``, then commit and say ``success`` (a text, or a function of the
    action's value); or roll back and report every reason it was refused: at the fields of
    ``form`` (``fields`` maps reason codes to field names, see :func:`capital.forms.add_reasons`),
    else flashed unless ``flash_errors`` is false (the page then shows ``errors`` itself).
    """
    try:
        value = action()
    except RuleViolation as error:
        db.session.rollback()
        errors = [translate(reason) for reason in error.reasons]
        if form is not None:
            add_reasons(form, error.reasons, fields or {})
        elif flash_errors:
            for message in errors:
                flash(message, "error")
        return Outcome(False, errors=errors)
    commit()
    if success is not None:
        flash(success(value) if callable(success) else success, category)
    return Outcome(True, value)
