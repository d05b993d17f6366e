from flask import Blueprint

bp = Blueprint("auth", __name__)

from capital.auth import factor_routes, routes  # noqa: E402,F401
