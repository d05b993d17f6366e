"""Malformed requests are answered with a clear 400 (or 404) before any view or database sees them.

A browser never sends control characters in a form field or an address (PostgreSQL refuses
NUL in text, and a CR/LF in ``?next=`` would end up in a header), nor a query string of
kilobytes; ids in addresses are bounded to what an integer column holds. One check here
instead of one in every view.
"""

from __future__ import annotations

import re

from flask import request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from capital.domain.messages import N_, Message

# PostgreSQL's `integer`; SQLite holds 64 bits, so this is the bound both keep.
INT_MAX = 2**31 - 1
MAX_QUERY_BYTES = 4096
# Tab, line feed and carriage return belong in a text area; no other control character does.
_FORM_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ADDRESS_CONTROL = re.compile("[\x00-\x1f\x7f]")


class MalformedInput(BadRequest):
    """A request no form could have sent; ``reason`` says what was wrong, for the error page."""

    def __init__(self, reason: Message):
        super().__init__()
        self.reason = reason


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` that does not match a number beyond an integer column (404, not a database error)."""

    def __init__(self, map, fixed_digits=0, min=None, max=INT_MAX, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def check_request() -> None:
    """Raise :class:`MalformedInput` for control characters or an oversized query string."""
    if len(request.query_string) > MAX_QUERY_BYTES:
        raise MalformedInput(Message(N_("The page address is too long."), {}, "input.query_too_long"))
    control = Message(N_("The request contains control characters, which no form sends."), {}, "input.control")
    if _ADDRESS_CONTROL.search(request.path):
        raise MalformedInput(control)
    for key, value in request.args.items(multi=True):
        if _ADDRESS_CONTROL.search(key) or _ADDRESS_CONTROL.search(value):
            raise MalformedInput(control)
    if request.method in ("POST", "PUT", "PATCH"):
        for key, value in request.form.items(multi=True):
            if _FORM_CONTROL.search(key) or _FORM_CONTROL.search(value):
                raise MalformedInput(control)
        for key, upload in request.files.items(multi=True):
            if _ADDRESS_CONTROL.search(key) or _ADDRESS_CONTROL.search(upload.filename or ""):
                raise MalformedInput(control)


def init_app(app) -> None:
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request_funcs.setdefault(None, []).insert(0, check_request)
