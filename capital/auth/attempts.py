"""Secrets typed for an account (passwords, second-factor codes), checked only within the throttle's limits."""

from __future__ import annotations

from flask import current_app

from capital import throttle


def _limits() -> throttle.SecretLimits:
    return throttle.SecretLimits.from_config(current_app.config, "CAPITAL_LOGIN")


def password_checked(email: str, check):
    """``check()``, for a password typed for ``email`` from the client's address, unless it is throttled.

    Someone else's wrong guesses never refuse the owner's right password (capital/throttle.py).
    """
    return throttle.check_secret("login", email.strip().lower(), check, _limits())


def code_checked(user, check):
    """``check()``, for a second factor (a code, a passkey's answer) given for ``user``: throttled like
    passwords, with the same limits, under a scope of its own."""
    return throttle.check_secret("second-factor", f"user-{user.id}", check, _limits())
