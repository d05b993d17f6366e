"""Error pages in the reader's language; JSON for API and health routes."""

import logging
import math
from contextlib import suppress
from datetime import timedelta

from flask import g, jsonify, make_response, render_template, request
from flask_babel import format_timedelta
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from capital.errors import bp
from capital.extensions import db, login_manager
from capital.i18n import _, _l, translate
from capital.inputs import MalformedInput

# What the reader is told, by exception class or HTTP status: (status, title, message).
ERROR_PAGES = {
    CSRFError: (400, _l("The form has expired"),
                _l("For your security the form could not be accepted. Go back, reload the page and try again.")),
    403: (403, _l("Not allowed"), _l("You do not have access to this page.")),
    404: (404, _l("Page not found"), _l("There is no page at this address.")),
    405: (405, _l("Not allowed"), _l("This page cannot be used that way.")),
    413: (413, _l("File too large"), _l("The file you sent is larger than the limit.")),
    # An error may strike after part of a request was saved: say so rather than promise nothing was lost.
    500: (500, _l("Something went wrong"),
          _l("The page could not be shown because of an error on our side. If you were sending a form, "
             "check whether your change was saved before trying again.")),
}


log = logging.getLogger(__name__)

# How long a reader is asked to wait while the database is out of reach.
DATABASE_RETRY_SECONDS = 60


def _page(status: int, title: str, message: str, **context):
    if request.path.startswith(("/api/", "/healthz")):
        return jsonify({"error": title, "message": message}), status
    return render_template("errors/error.html", status=status, title=title, message=message, **context), status


def _register(key, status: int, title, message) -> None:
    @bp.app_errorhandler(key)
    def handle(error):
        if status == 500:
            db.session.rollback()
        return _page(status, str(title), str(message))


for _key, _answer in ERROR_PAGES.items():
    _register(_key, *_answer)


# The two pages that say more than the table: which input was refused, and how long to wait.
@bp.app_errorhandler(400)
def bad_request(error):
    if isinstance(error, MalformedInput):
        return _page(400, _("Bad request"), translate(error.reason))
    return _page(400, _("Bad request"), _("The request could not be understood."))


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


# The database is out of reach (restarting, failing over, refusing connections, its pool
# exhausted): a passing state to wait out, not a fault of the page. The pool checks each
# connection before use, so the first request after it is back succeeds.
@bp.app_errorhandler(OperationalError)
@bp.app_errorhandler(InterfaceError)
@bp.app_errorhandler(PoolTimeout)
def database_unavailable(error):
    # Only the kind of failure: the message would carry the statement, and a statement may
    # carry a ballot.
    log.warning("database unavailable (%s) on %s %s", type(getattr(error, "orig", error)).__name__,
                request.method, request.path)
    with suppress(SQLAlchemyError):  # the connection is gone; the pool has already invalidated it
        db.session.rollback()
    # Nobody can be looked up now: render as for a visitor, without claiming they are signed
    # out (the session is untouched, and holds once the database is back).
    g._login_user = login_manager.anonymous_user()
    response = make_response(*_page(
        503, _("The service is briefly unavailable"),
        _("Capital cannot reach its data for a moment, because of maintenance or a fault on our side. "
          "Try again in a minute. If you were sending a form, check whether your change was saved "
          "before sending it again."), account_unknown=True))
    response.headers["Retry-After"] = str(DATABASE_RETRY_SECONDS)
    return response
