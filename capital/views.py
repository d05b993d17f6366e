"""What every blueprint does around a service call."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash

from capital.domain.messages import RuleViolation
from capital.extensions import db
from capital.i18n import translate
from capital.services.dispatch import commit


def flash_reasons(error: RuleViolation) -> None:
    """Show every reason a rule refused the action, in the reader's language."""
    for reason in error.reasons:
        flash(translate(reason), "error")


def perform(action: Callable[[], object], success: str, category: str = "success") -> bool:
    """Run a service ``action``: commit and say ``success``, or roll back and say every reason it was refused."""
    try:
        action()
    except RuleViolation as error:
        db.session.rollback()
        flash_reasons(error)
        return False
    commit()
    flash(success, category)
    return True
