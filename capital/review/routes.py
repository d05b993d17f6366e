"""The secretariat's eligibility review, and the board's reading of eligible dossiers."""

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from capital.auth.access import role_required
from capital.domain.nominations import NominationState, REVIEWABLE_STATES, can_review
from capital.domain.phase import dossiers_visible
from capital.domain.roles import Role
from capital.extensions import db
from capital.i18n import _
from capital.models import Nomination
from capital.models.types import utcnow
from capital.pagination import paged
from capital.review import bp
from capital.review.forms import DecisionForm
from capital.services import nominations as service
from capital.views import perform


@bp.route("/")
@role_required(Role.SECRETARIAT)
def index():
    cycle = service.current_cycle()
    listing = None
    state = request.args.get("state", type=int)
    states = sorted(REVIEWABLE_STATES | {NominationState.WITHDRAWN})  # a draft is nobody's but its city's
    if cycle is not None:
        statement = select(Nomination).options(
            selectinload(Nomination.nominating_city), selectinload(Nomination.host_city)
        ).where(Nomination.cycle_id == cycle.id, Nomination.state.in_(states))
        if state in {int(s) for s in states}:
            statement = statement.where(Nomination.state == state)
        listing = paged(statement, {"submitted": Nomination.submitted_dt, "state": Nomination.state,
                                    "title": Nomination.title}, "submitted")
    return render_template("review/index.html", cycle=cycle, listing=listing, states=states,
                           state=state)


@bp.route("/<int:nomination_id>", methods=["GET", "POST"])
@role_required(Role.SECRETARIAT)
def decide(nomination_id):
    nomination = db.session.get(Nomination, nomination_id)
    if nomination is None or nomination.state == NominationState.DRAFT:
        abort(404)  # nobody, the secretariat included, reads a city's draft
    form = DecisionForm()
    if form.validate_on_submit():
        if perform(lambda: service.decide_eligibility(
                nomination, eligible=form.decision.data == "eligible", reason=form.reason.data or "",
                actor=current_user, now=utcnow()),
                _("The decision is recorded and the city is informed by e-mail."),
                form=form, fields={"review.reason_missing": "reason"}):
            return redirect(url_for("review.index"))
    return render_template("review/decide.html", nomination=nomination, form=form,
                           decidable=can_review(nomination.state, nomination.cycle.phase),
                           checklist=service.check_rules(nomination), can_download=True)


@bp.route("/board")
@role_required(Role.BOARD, Role.ASSESSOR)
def board_dossiers():
    """The eligible dossiers, for the board, once nominations have closed."""
    cycle = service.current_cycle()
    nominations = []
    visible = cycle is not None and dossiers_visible(cycle.phase)
    if visible:
        nominations = db.session.scalars(select(Nomination).options(
            selectinload(Nomination.nominating_city), selectinload(Nomination.host_city)).where(
            Nomination.cycle_id == cycle.id, Nomination.state == NominationState.ELIGIBLE
        ).order_by(Nomination.title)).all()
    return render_template("review/board.html", visible=visible, nominations=nominations)
