"""Signed-in sessions that end: at sign-out, on the server's word, after idleness and at most after hours.

The session cookie carries the person's id, their *session generation* (a counter in the
``users`` table) and the times of sign-in, of the last password entry and of the last request.
Raising the generation (:func:`capital.services.accounts.end_sessions`) refuses every cookie
issued before, on every device, even one copied by someone else.
"""

from __future__ import annotations

import time

from flask import current_app, session
from flask_login import login_user, logout_user

from capital.extensions import db, login_manager
from capital.models import User

LOGIN_AT = "_login_at"
AUTH_AT = "_auth_at"  # the last time the password was typed
SEEN_AT = "_seen_at"
# The last-request time is rewritten at most this often, so not every page sets a new cookie.
SEEN_RESOLUTION = 60


def _now() -> float:
    return time.time()


def start_session(user: User) -> None:
    """Sign ``user`` in with a new session: nothing of the anonymous one survives but its language.

    The CSRF token lives in the session, so it is new too.
    """
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    login_user(user)
    now = int(_now())
    session[LOGIN_AT] = session[AUTH_AT] = session[SEEN_AT] = now


def end_session() -> None:
    """Forget the signed-in person in this browser (the cookie is emptied)."""
    logout_user()
    session.clear()


def confirm_password() -> None:
    """The password was just typed again: sensitive actions are allowed for a while."""
    session[AUTH_AT] = int(_now())


def password_typed_within(minutes: int) -> bool:
    return _now() - session.get(AUTH_AT, 0) <= minutes * 60


def _within_lifetime(now: float) -> bool:
    config = current_app.config
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return False  # a cookie from before lifetimes were recorded
    return (now - login_at <= config["SESSION_MAX_HOURS"] * 3600
            and now - seen_at <= config["SESSION_IDLE_MINUTES"] * 60)


@login_manager.user_loader
def load_user(session_id: str):
    """The signed-in person, if this session is still theirs: same generation, active, not expired."""
    user_id, _, generation = session_id.partition(":")
    if not (user_id.isdigit() and generation.isdigit()) or len(user_id) > 10:
        return None
    user = db.session.get(User, int(user_id))
    now = _now()
    if (user is None or not user.is_active or user.session_generation != int(generation)
            or not _within_lifetime(now)):
        session.clear()
        return None
    if now - session[SEEN_AT] >= SEEN_RESOLUTION:
        session[SEEN_AT] = int(now)
    return user


def init_app(app) -> None:
    @app.after_request
    def no_store_when_signed_in(response):
        # A shared or back-button cache must not keep a signed-in page.
        if "_user_id" in session:
            response.headers["Cache-Control"] = "no-store"
            response.vary.add("Cookie")
        return response
