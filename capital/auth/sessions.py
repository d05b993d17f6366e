"""Signed-in sessions that end: at sign-out, on the server's word, after idleness and at most after hours.

The session cookie carries the person's id, their *session generation* (a counter in the
``users`` table) and the times of sign-in, of the last password entry, of the second factor
and of the last request. Raising the generation (:func:`capital.services.accounts.end_sessions`)
refuses every cookie issued before, on every device, even one copied by someone else; every
change to a person's second factors raises it too.

A person who has a second factor, or whose role requires one, is *half signed in* between
their password and their factor: the session names them as pending, not signed in, and
:func:`hold_pending_sign_in` answers every request with the challenge page (or, for someone
who has no factor yet, the set-up pages), except signing out, the language switch and the
static files those pages use.
"""

from __future__ import annotations

import time

from flask import current_app, flash, g, has_request_context, redirect, request, session, url_for
from flask_login import login_user, logout_user

from capital.domain.second_factor import requires_second_factor
from capital.extensions import db, login_manager
from capital.i18n import _
from capital.models import User
from capital.services.factors import has_second_factor, required_for

LOGIN_AT = "_login_at"
AUTH_AT = "_auth_at"  # the last time the password (and the second factor, if any) was typed
SEEN_AT = "_seen_at"
FACTOR_AT = "_factor_at"  # the second factor was checked at sign-in
PENDING = "_pending"  # half signed in: {"user": "id:generation", "at": seconds, "next": path}
# How long a person has between their password and their second factor.
PENDING_SECONDS = 600

# Reachable while half signed in, whatever the person's factors.
OPEN_WHILE_PENDING = frozenset({"static", "auth.logout", "public.set_language"})
# The challenge, for someone who has a factor; the set-up pages, for someone who needs one.
CHALLENGE_PAGES = frozenset({"auth.second_factor"})
SETUP_PAGES = frozenset({"auth.set_up_app", "auth.add_passkey"})
# The last-request time is rewritten at most this often, so not every page sets a new cookie.
SEEN_RESOLUTION = 60


def _now() -> float:
    return time.time()


def _fresh_session() -> None:
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


def start_session(user: User, *, second_factor: bool = False) -> None:
    """Sign ``user`` in with a new session: nothing of the anonymous one survives but its language.

    The CSRF token lives in the session, so it is new too. ``second_factor``: it was checked.
    """
    _fresh_session()
    login_user(user)
    now = int(_now())
    session[LOGIN_AT] = session[AUTH_AT] = session[SEEN_AT] = now
    if second_factor:
        session[FACTOR_AT] = now


def start_pending(user: User, target: str) -> None:
    """The password was right; the second factor is still to come (or to be set up), then ``target``."""
    _fresh_session()
    session[PENDING] = {"user": user.get_id(), "at": int(_now()), "next": target}


def pending_target() -> str:
    return session[PENDING]["next"]


def pending_user() -> User | None:
    """The half-signed-in person, while their password is recent, their account active, their generation unchanged."""
    data = session.get(PENDING)
    if not isinstance(data, dict) or not isinstance(data.get("at"), int):
        return None
    user = _user_of(str(data.get("user", "")))
    if user is None or not 0 <= _now() - data["at"] <= PENDING_SECONDS:
        return None
    return user


def begin_sign_in(user: User, target: str):
    """The password was right: sign in and go to ``target``, or first ask for the second factor (or
    for one to be set up, when the person's role requires one and they have none)."""
    if has_second_factor(user):
        start_pending(user, target)
        return redirect(url_for("auth.second_factor"))
    if required_for(user):
        start_pending(user, target)
        return redirect(url_for("auth.set_up_app"))
    start_session(user)
    return redirect(target)


def renew_session(user: User) -> None:
    """This browser made a change to the person's factors that ended their other sessions (a new
    generation): it stays signed in, under the new generation, its factor checked."""
    login_user(user)
    session[FACTOR_AT] = int(_now())


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


def _user_of(session_id: str) -> User | None:
    """The active person a cookie's ``id:generation`` names, if the generation is still theirs."""
    user_id, _, generation = session_id.partition(":")
    if not (user_id.isdigit() and generation.isdigit()) or len(user_id) > 10 or len(generation) > 10:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active or user.session_generation != int(generation):
        return None
    return user


@login_manager.user_loader
def load_user(session_id: str):
    """The signed-in person, if this session is still theirs: same generation, active, not expired, and
    their second factor checked if their role requires one (a session from before it was required is not)."""
    user = _user_of(session_id)
    now = _now()
    if (user is None or not _within_lifetime(now)
            or (FACTOR_AT not in session
                and requires_second_factor(user.roles, current_app.config["REQUIRE_SECOND_FACTOR"]))):
        session.clear()
        return None
    if now - session[SEEN_AT] >= SEEN_RESOLUTION:
        session[SEEN_AT] = int(now)
    return user


def hold_pending_sign_in():
    """Before every request: a half-signed-in person reaches only the challenge or the set-up pages."""
    if PENDING not in session or request.endpoint in OPEN_WHILE_PENDING:
        return None
    user = pending_user()
    if user is None:
        _fresh_session()
        flash(_("Your sign-in was not finished in time. Sign in again."), "info")
        return redirect(url_for("auth.login"))
    g.pending_user = user
    landing, pages = (("auth.second_factor", CHALLENGE_PAGES) if has_second_factor(user)
                      else ("auth.set_up_app", SETUP_PAGES))
    if request.endpoint in pages:
        return None
    return redirect(url_for(landing))


def init_app(app) -> None:
    app.before_request(hold_pending_sign_in)

    @app.context_processor
    def signing_in():
        # Mail is rendered by workers, outside any request.
        return {"signing_in": has_request_context() and PENDING in session}

    @app.after_request
    def no_store_when_signed_in(response):
        # A shared or back-button cache must not keep a signed-in page.
        if "_user_id" in session or PENDING in session:
            response.headers["Cache-Control"] = "no-store"
            response.vary.add("Cookie")
        return response
