from flask import render_template
from flask_login import current_user

from capital.auth.access import role_required
from capital.board import bp
from capital.domain.roles import Role
from capital.models.types import utcnow
from capital.services import nominations
from capital.services.cycles import cycle_timeline


@bp.route("/")
@role_required(Role.BOARD)
def dashboard():
    today = utcnow().date()
    cycle = nominations.current_cycle()
    return render_template("board/dashboard.html", term=current_user.current_board_term(today),
                           terms=current_user.board_terms, cycle=cycle,
                           timeline=cycle_timeline(cycle) if cycle else None)
