"""The read-only JSON API, ``/api/v1/`` (docs/public.md), and its OpenAPI document."""

from flask import Blueprint

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)

from capital.api import routes  # noqa: E402,F401
