from flask import Response, abort, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from capital.config import LOCALES
from capital.domain.phases import Phase
from capital.domain.timeline import deadlines_behind
from capital.domain.roles import Role
from capital.extensions import db
from capital.i18n import _
from capital.domain.nominations import ACTIVE_STATES
from capital.models import Cycle, Nomination
from capital.models.types import utcnow
from capital.public import bp
from capital.secretariat.forms import METHOD_TITLES
from capital.services import voting
from capital.services.health import health_report
from capital.urls import safe_next_url


@bp.route("/")
def home():
    latest_capital = db.session.scalar(
        select(Cycle).where(Cycle.phase == Phase.ANNOUNCED).order_by(Cycle.year.desc()).limit(1)
    )
    upcoming = db.session.scalar(
        select(Cycle).where(Cycle.phase.not_in([Phase.ANNOUNCED, Phase.CANCELLED, Phase.NO_CAPITAL]))
        .order_by(Cycle.year).limit(1)
    )
    behind = deadlines_behind(upcoming.phase) if upcoming else ()
    return render_template("public/home.html", latest_capital=latest_capital, upcoming=upcoming, behind=behind,
                           now=utcnow())


@bp.route("/about/<any(contact, help, privacy, accessibility):name>")
def about(name):
    """The footer's pages: short, real content in every language (templates/public/about/<name>.html)."""
    return render_template(f"public/about/{name}.html", contact=current_app.config["CAPITAL_CONTACT_EMAIL"])


@bp.route("/nominees")
def nominees():
    """The nominees' names and titles, public once nominations have closed."""
    cycle = db.session.scalar(
        select(Cycle).where(Cycle.phase >= Phase.NOMINATIONS_CLOSED, Cycle.phase != Phase.CANCELLED)
        .order_by(Cycle.year.desc()).limit(1)
    )
    nominations = []
    if cycle is not None:
        nominations = db.session.scalars(
            select(Nomination).options(selectinload(Nomination.host_city))
            .where(Nomination.cycle_id == cycle.id, Nomination.state.in_(ACTIVE_STATES))
            .order_by(Nomination.title)
        ).all()
    return render_template("public/nominees.html", cycle=cycle, nominations=nominations)


@bp.route("/dashboard")
@login_required
def dashboard():
    """Send each person to the page of their role; several roles get a choice."""
    pages = [
        (Role.SECRETARIAT, "secretariat.dashboard"),
        (Role.BOARD, "board.dashboard"),
        (Role.REPRESENTATIVE, "nominations.dashboard"),
    ]
    mine = [(role, endpoint) for role, endpoint in pages if current_user.has_role(role)]
    if len(mine) == 1:
        return redirect(url_for(mine[0][1]))
    return render_template("public/dashboard.html", pages=mine)


@bp.route("/language", methods=["POST"])
def set_language():
    locale = request.form.get("locale", "")
    if locale in LOCALES:
        session["locale"] = locale
        if current_user.is_authenticated:
            # The interface only: official mail keeps the language the person chose for it.
            current_user.mail_locale = current_user.mail_language
            current_user.locale = locale
            db.session.commit()
    else:
        flash(_("This language is not available."), "error")
    return redirect(safe_next_url(request.form.get("next")) or url_for("public.home"))


@bp.route("/healthz")
def healthz():
    report, healthy = health_report(utcnow())
    return jsonify(report), 200 if healthy else 503


def _cycle_of(year: int) -> Cycle:
    cycle = db.session.scalar(select(Cycle).where(Cycle.year == year))
    if cycle is None:
        abort(404)
    return cycle


@bp.route("/vote/<int:year>")
def vote(year):
    """The vote of a year: the roll count and the tie-break as soon as voting opens; the result,
    the designations and the audit files once announced (before that, nobody outside sees them)."""
    cycle = _cycle_of(year)
    voting_round = voting.current_round(cycle)
    announced = cycle.phase == Phase.ANNOUNCED
    result = voting.latest_result(cycle) if announced or cycle.phase == Phase.NO_CAPITAL else None
    names = {}
    if voting_round is not None:
        names = voting.nomination_names(voting.ballot_nominations(voting_round))
    return render_template("public/vote.html", cycle=cycle, voting_round=voting_round, result=result,
                           announced=announced, tie_break=[names[n] for n in voting_round.tie_break_order]
                           if voting_round else [], designations=voting.designations(cycle) if announced else [],
                           files=list(voting.audit_files(cycle)) if announced else [],
                           no_capital_reasons=voting.NO_CAPITAL_REASONS, method_titles=METHOD_TITLES)


@bp.route("/vote/<int:year>/<name>")
def audit_file(year, name):
    """One file of the announced vote's audit bundle."""
    content = voting.audit_files(_cycle_of(year)).get(name)
    if content is None:
        abort(404)
    mimetype = "application/json" if name.endswith(".json") else "text/plain"
    return Response(content, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename={year}-{name}", "X-Content-Type-Options": "nosniff"})
