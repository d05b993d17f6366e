"""Server-side access checks used by every protected route."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, current_app, g, redirect, request, url_for
from flask_login import current_user, login_required

from capital.auth.sessions import password_typed_within
from capital.domain.roles import Role


def role_required(*roles: Role):
    """Allow signed-in users holding any of ``roles``; others get 403 (anonymous: the login page)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def recent_login_required(view):
    """Allow the view only if the password was typed in the last ``CAPITAL_REAUTH_MINUTES``.

    Otherwise the person is sent to type it again and then brought back: a GET to the same
    page, a POST to the page the form was on (the action is not replayed, they confirm it again).
    Use it on top of ``role_required`` for sensitive actions (changing a phase by hand,
    announcing, changing the roll, changing one's own second factors). For a person with a
    second factor, typing the password again means typing the factor too.
    """

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if password_typed_within(current_app.config["REAUTH_MINUTES"]):
            return view(*args, **kwargs)
        return redirect(url_for("auth.reauthenticate", next=_return_path()))

    return wrapped


def _return_path() -> str:
    if request.method == "GET":
        return request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path:
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return request.path


def pending_or_recent_login(view):
    """For the pages that set up a second factor: the half-signed-in person who has none yet (the
    only one :func:`capital.auth.sessions.hold_pending_sign_in` lets through to them), or a
    signed-in person who typed their password recently."""
    recent = recent_login_required(view)

    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("pending_user") is not None:
            return view(*args, **kwargs)
        return recent(*args, **kwargs)

    return wrapped
