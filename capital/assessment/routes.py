from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from capital.assessment import bp
from capital.assessment.forms import SubmitAssessmentForm, dossier_form, note_field, score_field
from capital.auth.access import role_required
from capital.domain.assessment import Entry, may_assess
from capital.domain.messages import RuleViolation
from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.extensions import db
from capital.i18n import _, translate
from capital.models.types import utcnow
from capital.pagination import paged
from capital.services import assessment as service
from capital.services.criteria import cycle_criteria
from capital.services.dispatch import commit

PANEL_ROLES = (Role.BOARD, Role.ASSESSOR, Role.SECRETARIAT)


def _cycle():
    return service.assessment_cycle() or abort(404)


def _private(response):
    # Scores and notes are nobody's business but the panel's: never kept by a shared cache.
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/")
@role_required(*PANEL_ROLES)
def dashboard():
    cycle = service.assessment_cycle()
    if cycle is None:
        return _private(render_template("assessment/dashboard.html", cycle=None))
    now = utcnow()
    facts = service.panel_facts(cycle, current_user, now)
    writable = may_assess(facts, is_assessment_phase=cycle.phase == Phase.ASSESSMENT, now=now,
                          closes=cycle.assessment_close_dt)
    criteria = cycle_criteria(cycle)
    entries = service.own_entries(service.own_assessment(cycle, current_user)) if facts.is_on_panel else {}
    nominations = service.eligible_nominations(cycle) if facts.is_on_panel else []
    done = {n.id: sum(1 for c in criteria if (e := entries.get((n.id, c.id))) and e.score and e.note.strip())
            for n in nominations}
    return _private(render_template(
        "assessment/dashboard.html", cycle=cycle, facts=facts, writable=writable, criteria=criteria,
        nominations=nominations, done=done, can_see=service.may_see(cycle, current_user, now),
        submitted=service.submission_count(cycle), panel_size=len(service.panel(cycle, now))))


def _dossier_context(cycle, nomination_id):
    nominations = service.eligible_nominations(cycle)
    index = next((i for i, n in enumerate(nominations) if n.id == nomination_id), None)
    if index is None:
        abort(404)
    following = nominations[index + 1] if index + 1 < len(nominations) else None
    return nominations[index], following, index + 1, len(nominations)


@bp.route("/dossiers/<int:nomination_id>", methods=["GET", "POST"])
@role_required(Role.BOARD, Role.ASSESSOR)
def assess(nomination_id):
    cycle = _cycle()
    now = utcnow()
    facts = service.panel_facts(cycle, current_user, now)
    if not facts.is_on_panel:
        abort(403)
    nomination, following, number, count = _dossier_context(cycle, nomination_id)
    criteria = cycle_criteria(cycle)
    writable = may_assess(facts, is_assessment_phase=cycle.phase == Phase.ASSESSMENT, now=now,
                          closes=cycle.assessment_close_dt)
    stored = service.own_entries(service.own_assessment(cycle, current_user))
    data = {}
    for criterion in criteria:
        entry = stored.get((nomination.id, criterion.id))
        data[score_field(criterion.id)] = entry.score if entry else ""
        data[note_field(criterion.id)] = entry.note if entry else ""
    form = dossier_form(criteria, data=data)
    if form.validate_on_submit():
        entries = [Entry(nomination.id, c.id, form[score_field(c.id)].data or "", form[note_field(c.id)].data or "")
                   for c in criteria]
        try:
            service.save_assessment(cycle, entries, actor=current_user, now=utcnow())
        except service.AssessmentRefused as refused:
            db.session.rollback()
            for problem in refused.problems:
                field = form[score_field(problem.criterion_id)] if problem.message.code == "assessment.score_range" \
                    else form[note_field(problem.criterion_id)]
                field.errors = [*field.errors, translate(problem.message)]
        except RuleViolation as refused:
            # Refused by the clock or the phase: the page shows the form once more with what was
            # typed, so that it can still be copied.
            db.session.rollback()
            form.form_errors.extend(translate(reason) for reason in refused.reasons)
        else:
            commit()
            flash(_("Your draft was saved."), "success")
            if form.save_next.data and following is not None:
                return redirect(url_for("assessment.assess", nomination_id=following.id))
            return redirect(url_for("assessment.assess", nomination_id=nomination.id))
    return _private(render_template(
        "assessment/dossier.html", cycle=cycle, nomination=nomination, following=following, number=number,
        count=count, criteria=criteria, form=form, writable=writable, score_field=score_field,
        note_field=note_field))


@bp.route("/submit", methods=["GET", "POST"])
@role_required(Role.BOARD, Role.ASSESSOR)
def submit():
    cycle = _cycle()
    now = utcnow()
    facts = service.panel_facts(cycle, current_user, now)
    if not facts.is_on_panel:
        abort(403)
    form = SubmitAssessmentForm()
    problems = []
    if form.validate_on_submit():
        try:
            service.submit_assessment(cycle, actor=current_user, now=utcnow())
        except service.AssessmentRefused as refused:
            db.session.rollback()
            problems = refused.problems
        except RuleViolation as refused:
            db.session.rollback()
            form.form_errors.extend(translate(reason) for reason in refused.reasons)
        else:
            commit()
            flash(_("Your assessment was submitted. Thank you."), "success")
            return redirect(url_for("assessment.dashboard"))
    writable = may_assess(facts, is_assessment_phase=cycle.phase == Phase.ASSESSMENT, now=now,
                          closes=cycle.assessment_close_dt)
    names = {n.id: n.host_city.name for n in service.eligible_nominations(cycle)}
    missing = {}
    for problem in problems:
        missing.setdefault(problem.nomination_id, []).append(problem)
    return _private(render_template("assessment/submit.html", cycle=cycle, form=form, writable=writable,
                                    missing=missing, names=names,
                                    criteria={c.id: c for c in cycle_criteria(cycle)}))


@bp.route("/compare")
@role_required(*PANEL_ROLES)
def compare():
    cycle = _cycle()
    now = utcnow()
    if not service.may_see(cycle, current_user, now):
        return _private((render_template("assessment/compare.html", cycle=cycle, visible=False), 403))
    criteria = cycle_criteria(cycle)
    statement, columns = service.comparison_statement(cycle, request.args.get("sort", "total"))
    listing = paged(statement, columns, "total", per_page=10, default_direction="desc")
    rows = service.comparison_rows(cycle, list(listing.pagination.items), criteria)
    return _private(render_template("assessment/compare.html", cycle=cycle, visible=True, listing=listing,
                                    rows=rows, criteria=criteria, submitted=service.submission_count(cycle)))

