"""Attempts at guessable secrets (passwords, second-factor codes), counted before they are checked."""

from __future__ import annotations

from flask import current_app

from capital import throttle


def guess_attempt(scope: str, account: str) -> throttle.Attempt:
    """Count an attempt against the account and the client's address before checking it, with the sign-in limits."""
    config = current_app.config
    return throttle.hit(scope, [("account", account, config["CAPITAL_LOGIN_LIMIT"]),
                                ("address", throttle.client_address(), config["CAPITAL_LOGIN_ADDRESS_LIMIT"])])


def guess_accepted(attempt: throttle.Attempt) -> None:
    # The owner's earlier failures are forgiven; the address keeps its count of others' failures.
    attempt.clear("account")
    attempt.refund("address")


def password_attempt(email: str) -> throttle.Attempt:
    return guess_attempt("login", email.strip().lower())


def code_attempt(user) -> throttle.Attempt:
    """Second-factor codes and passkey answers are throttled like passwords, under a scope of their own."""
    return guess_attempt("second-factor", f"user-{user.id}")
