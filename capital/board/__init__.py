from flask import Blueprint

bp = Blueprint("board", __name__)

from capital.board import routes  # noqa: E402,F401
