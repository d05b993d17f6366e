from flask import render_template
from flask_login import current_user

from capital.auth.access import role_required
from capital.board import bp
from capital.domain.roles import Role
from capital.models.types import utcnow


@bp.route("/")
@role_required(Role.BOARD)
def dashboard():
    today = utcnow().date()
    return render_template("board/dashboard.html", term=current_user.current_board_term(today),
                           terms=current_user.board_terms)
