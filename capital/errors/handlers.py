"""Error pages in the reader's language; JSON for API and health routes."""

import math
from datetime import timedelta

from flask import jsonify, make_response, render_template, request
from flask_babel import format_timedelta
from flask_wtf.csrf import CSRFError

from capital.errors import bp
from capital.extensions import db
from capital.i18n import _, translate
from capital.inputs import MalformedInput


def _page(status: int, title: str, message: str):
    if request.path.startswith(("/api/", "/healthz")):
        return jsonify({"error": title, "message": message}), status
    return render_template("errors/error.html", status=status, title=title, message=message), status


@bp.app_errorhandler(CSRFError)
def csrf_error(error):
    return _page(400, _("The form has expired"),
                 _("For your security the form could not be accepted. Go back, reload the page and try again."))


@bp.app_errorhandler(400)
def bad_request(error):
    if isinstance(error, MalformedInput):
        return _page(400, _("Bad request"), translate(error.reason))
    return _page(400, _("Bad request"), _("The request could not be understood."))


@bp.app_errorhandler(403)
def forbidden(error):
    return _page(403, _("Not allowed"), _("You do not have access to this page."))


@bp.app_errorhandler(404)
def not_found(error):
    return _page(404, _("Page not found"), _("There is no page at this address."))


@bp.app_errorhandler(405)
def method_not_allowed(error):
    return _page(405, _("Not allowed"), _("This page cannot be used that way."))


@bp.app_errorhandler(413)
def too_large(error):
    return _page(413, _("File too large"), _("The file you sent is larger than the limit."))


@bp.app_errorhandler(429)
def too_many_requests(error):
    wait = getattr(error, "wait_seconds", 60)
    # Whole minutes past the first one: "2 minutes" rather than a precise but odd "95 seconds".
    wait = wait if wait < 60 else 60 * math.ceil(wait / 60)
    response, status = _page(429, _("Too many attempts"),
                             _("Too many attempts. Wait %(wait)s and try again.",
                               wait=format_timedelta(timedelta(seconds=wait), threshold=1.1)))
    response = make_response(response, status)
    response.headers["Retry-After"] = str(wait)
    return response


@bp.app_errorhandler(500)
def internal_error(error):
    db.session.rollback()
    return _page(500, _("Something went wrong"),
                 _("The page could not be shown. Nothing you sent was lost; please try again."))
