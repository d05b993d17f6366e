from flask import flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from capital.domain.localisation import LOCALES
from capital.domain.phase import DOSSIER_PHASES, FINAL_PHASES, Phase
from capital.domain.roles import Role
from capital.domain.timeline import labelled_deadlines
from capital.extensions import db
from capital.i18n import _
from capital.domain.nominations import ACTIVE_STATES
from capital.models import Cycle, Nomination
from capital.models.types import utcnow
from capital.public import bp
from capital.services import accounts
from capital.services.health import health_report
from capital.urls import safe_next_url
from capital.views import perform


@bp.route("/")
def home():
    latest_capital = db.session.scalar(
        select(Cycle).where(Cycle.phase == Phase.ANNOUNCED).order_by(Cycle.year.desc()).limit(1)
    )
    upcoming = db.session.scalar(
        select(Cycle).where(Cycle.phase.not_in(FINAL_PHASES))
        .order_by(Cycle.year).limit(1)
    )
    return render_template("public/home.html", latest_capital=latest_capital, upcoming=upcoming,
                           deadlines=labelled_deadlines(upcoming) if upcoming else [])


@bp.route("/nominees")
def nominees():
    """The nominees' names and titles, public once nominations have closed."""
    cycle = db.session.scalar(
        select(Cycle).where(Cycle.phase.in_(DOSSIER_PHASES))
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
    if locale not in LOCALES:
        flash(_("This language is not available."), "error")
    else:
        session["locale"] = locale
        if current_user.is_authenticated:  # saved for next time, as the settings page does
            perform(lambda: accounts.update_settings(current_user, name=current_user.name, locale=locale,
                                                     timezone=current_user.timezone, now=utcnow()))
    return redirect(safe_next_url(request.form.get("next")) or url_for("public.home"))


@bp.route("/healthz")
def healthz():
    report, healthy = health_report(utcnow())
    return jsonify(report), 200 if healthy else 503
