"""Server-side access checks used by every protected route."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

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
