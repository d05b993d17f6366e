from flask import Blueprint

bp = Blueprint("nominations", __name__)

from capital.nominations import routes  # noqa: E402,F401
