from flask import Blueprint

bp = Blueprint("board", __name__)

from capital.board import routes, shortlist_routes  # noqa: E402,F401
