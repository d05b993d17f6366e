from flask import Response, abort, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from capital.auth.access import recent_login_required
from capital.domain.audit_chain import BREAK_TITLES, Break
from capital.domain.criteria import criteria_editable
from capital.domain.localisation import LOCALES
from capital.domain.membership import CityStatus, SignatureForm
from capital.domain.phase import ALL_DEADLINE_FIELDS, Phase, course, deadline_for
from capital.domain.phases import ALLOWED_TRANSITIONS, transition_deadline
from capital.domain.roles import Role
from capital.domain.timeline import (
    DEADLINE_FIELDS, DEADLINE_LABELS, STAGE_FIELDS, default_timeline, labelled_deadlines, next_cycle_year,
)
from capital.extensions import db
from capital.domain.messages import RuleViolation
from capital.i18n import LANGUAGE_NAMES, _, _l, format_decimal
from capital.domain import onboarding as onboarding_rows
from capital.models import AuditEntry, City, Criterion, Cycle, ImportJob, Invitation, Mail, MailState, RoleGrant, User
from capital.models.types import utcnow
from capital.pagination import keyset_paged, paged
from capital.secretariat import bp
from capital.secretariat.forms import (
    METHOD_TITLES, AuditFilterForm, BoardTermForm, CityForm, ConfirmImportForm, CriterionForm, CycleEditForm,
    CycleForm, DeclarationSignatureForm, ImportForm, InvitationForm, RapporteurForm, RoleForm, local_zone,
)
from capital.services import (
    accounts, cities as city_service, criteria as criteria_service, cycles as cycle_service, factors, personal_data,
    reports, voting,
)
from capital.services import onboarding as onboarding_service
from capital.services.audit import (
    ACTION_TITLES, AuditFilter, export_csv, export_json_lines, filtered_entries, verify_chain,
)
from capital.services.dispatch import commit
from capital.services.health import outbox_status, tick_status
from capital.views import perform


# The pages of this blueprint an observer reads too (docs/roles.md): the audit log and the mail log.
OBSERVER_PAGES = frozenset({"secretariat.audit_log", "secretariat.audit_chain", "secretariat.audit_export",
                            "secretariat.mail"})


@bp.before_request
@login_required
def require_secretariat():
    """Every page of this blueprint is for the secretariat; an observer reads a few of them, and changes nothing."""
    if current_user.has_role(Role.SECRETARIAT):
        return None
    reading = request.method in ("GET", "HEAD")
    if reading and current_user.has_role(Role.OBSERVER) and request.endpoint in OBSERVER_PAGES:
        return None
    abort(403)


# Where each rule's reason is shown on the secretariat's forms (see capital.forms.add_reasons).
CYCLE_FIELDS = {
    **{f"timeline.order.{name}": name for name in ALL_DEADLINE_FIELDS},
    **{f"timeline.past.{name}": name for name in ALL_DEADLINE_FIELDS},
    "cycle.assessment_dates": "has_assessment",
    "cycle.assessment_fixed": "has_assessment",
    "cycle.shortlist_dates": "shortlist_size",
    "cycle.shortlist_fixed": "shortlist_size",
    "cycle.shortlist_size": "shortlist_size",
    "timeline.after_celebration": "announcement_dt",
    "cycle.year_taken": "year",
    "cycle.timeline_year": "year",
    "cycle.method": "method",
    "cycle.max_rounds": "max_rounds",
    "cycle.quorum_share": "quorum_percent",
}
CITY_FIELDS = {"city.country_code": "country_code", "city.timezone": "timezone", "city.population": "population",
               "signature.future": "signed_on"}


@bp.route("/")
def dashboard():
    counts = {
        "cities": db.session.scalar(select(func.count(City.id))),
        "people": db.session.scalar(select(func.count(User.id))),
        "cycles": db.session.scalar(select(func.count(Cycle.id))),
        "pending_invitations": db.session.scalar(
            select(func.count(Invitation.id)).where(Invitation.accepted_dt.is_(None), Invitation.revoked_dt.is_(None))
        ),
    }
    cycles = db.session.scalars(select(Cycle).order_by(Cycle.year.desc()).limit(5)).all()
    now = utcnow()
    outbox = outbox_status(now)
    return render_template("secretariat/dashboard.html", counts=counts, cycles=cycles, outbox=outbox,
                           outbox_counts=_said_counts(outbox), tick=tick_status(now), deadline_for=deadline_for)


def _said_counts(outbox: dict) -> dict[str, str]:
    """Each count of the outbox as the secretariat reads it: the number, "more than …" or "about …"."""
    said = {"exact": "%(number)s", "at_least": _("more than %(number)s"), "about": _("about %(number)s")}
    return {name: said[kind] % {"number": format_decimal(outbox[name])} for name, kind in outbox["counts"].items()}


def _search(statement, query: str, *columns):
    if query:
        pattern = f"%{query.strip().lower()}%"
        statement = statement.where(or_(*(func.lower(column).like(pattern) for column in columns)))
    return statement


# --- cycles ------------------------------------------------------------------------------

@bp.route("/cycles")
def cycles():
    statement = select(Cycle).options(selectinload(Cycle.capital_city))
    listing = paged(statement, {"year": Cycle.year, "phase": Cycle.phase}, "year")
    return render_template("secretariat/cycles.html", listing=listing, labels=DEADLINE_LABELS)


@bp.route("/cycles/new", methods=["GET", "POST"])
def create_cycle():
    latest = cycle_service.latest_cycle()
    zone = local_zone()
    if request.method == "POST":
        form = CycleForm()
    else:
        # "Copy last year's settings" pre-fills the form from the latest cycle, carried over a year.
        year = next_cycle_year(utcnow().date(), latest.year if latest else None)
        copy = latest if latest and request.args.get("start") == "copy" else None
        timeline, settings = cycle_service.proposal(year, copy)
        form = CycleForm(data=CycleForm.initial(timeline, settings, zone, year=year,
                                                copy_from=copy.id if copy else None))
    if form.validate_on_submit():
        copy_from = db.session.get(Cycle, form.copy_from.data) if form.copy_from.data else None
        outcome = perform(lambda: cycle_service.create_cycle(
                form.year.data, timeline=form.timeline(form.year.data, zone), settings=form.settings(),
                copy_from=copy_from, actor=current_user, now=utcnow()),
                          lambda cycle: _("The cycle %(year)s was created as a draft.", year=cycle.year), form=form, fields=CYCLE_FIELDS)
        if outcome:
            return redirect(url_for("secretariat.cycle", cycle_id=outcome.value.id))
    return render_template("secretariat/cycle_form.html", form=form, latest=latest, cycle=None,
                           zone=zone, deadline_fields=DEADLINE_FIELDS, stage_fields=STAGE_FIELDS)


def _get_cycle(cycle_id: int) -> Cycle:
    return db.session.get(Cycle, cycle_id) or abort(404)


@bp.route("/cycles/<int:cycle_id>")
def cycle(cycle_id):
    cycle = _get_cycle(cycle_id)
    trail = paged(select(AuditEntry).options(selectinload(AuditEntry.actor)).where(AuditEntry.cycle_id == cycle.id),
                  {"dt": AuditEntry.dt}, "dt")
    return _cycle_page(cycle, trail, _rapporteur_form(cycle))


def _cycle_page(cycle: Cycle, trail, form: RapporteurForm):
    # Only the moves the cycle's course has (with cancelling and no capital), in the course's order.
    stages = course(cycle_service.cycle_timeline(cycle) or cycle)
    targets = sorted((target for target in ALLOWED_TRANSITIONS[cycle.phase]
                      if target in stages or target in (Phase.CANCELLED, Phase.NO_CAPITAL)), key=lambda p: p.step)
    phase_moves = [(target, _refusal(cycle, target)) for target in targets]
    return render_template("secretariat/cycle.html", cycle=cycle, deadlines=labelled_deadlines(cycle), trail=trail,
                           settings=cycle_service.CycleSettings.of(cycle),
                           phase_moves=phase_moves, phases=Phase, form=form, report=reports.report_of(cycle),
                           method_titles=METHOD_TITLES, action_titles=ACTION_TITLES,
                           shortlist_counted=voting.has_shortlist_count(cycle),
                           final_counted=voting.has_final_count(cycle))


def _rapporteur_form(cycle: Cycle) -> RapporteurForm:
    report = reports.report_of(cycle)
    form = RapporteurForm(data={"rapporteur": report.rapporteur_id or 0} if report else None)
    form.set_members(db.session.scalars(select(User).join(RoleGrant).where(
        RoleGrant.role == Role.BOARD, User.is_active_account.is_(True)).order_by(User.name, User.id)).unique())
    return form


@bp.route("/cycles/<int:cycle_id>/rapporteur", methods=["POST"])
def assign_rapporteur(cycle_id):
    """Give the cycle's jury report to a board member (or back to the secretariat alone)."""
    cycle = _get_cycle(cycle_id)
    form = _rapporteur_form(cycle)
    if form.validate_on_submit():
        member = db.session.get(User, form.rapporteur.data) if form.rapporteur.data else None
        if perform(lambda: reports.assign_rapporteur(cycle, member, actor=current_user, now=utcnow()),
                   _("The rapporteur of the jury report is saved."), form=form,
                   fields={"report.rapporteur_not_board": "rapporteur"}):
            return redirect(url_for("secretariat.cycle", cycle_id=cycle.id))
    trail = paged(select(AuditEntry).options(selectinload(AuditEntry.actor)).where(AuditEntry.cycle_id == cycle.id),
                  {"dt": AuditEntry.dt}, "dt")
    return _cycle_page(cycle, trail, form), 400


def _refusal(cycle: Cycle, target: Phase) -> tuple:
    """Why ``cycle`` can't move to ``target`` now (empty when it can): the page offers only moves that work."""
    try:
        cycle_service.check_phase_change(cycle, target, actor=current_user, now=utcnow(), by_hand=True)
    except RuleViolation as violation:
        return violation.reasons
    return ()


@bp.route("/cycles/<int:cycle_id>/edit", methods=["GET", "POST"])
def edit_cycle(cycle_id):
    cycle = _get_cycle(cycle_id)
    zone = local_zone()
    timeline = cycle_service.cycle_timeline(cycle) or default_timeline(cycle.year)
    form = CycleEditForm(data=CycleForm.initial(timeline, cycle_service.CycleSettings.of(cycle), zone))
    if form.validate_on_submit():
        outcome = perform(lambda: cycle_service.update_cycle(cycle, timeline=form.timeline(cycle.year, zone), settings=form.settings(),
                                       actor=current_user, now=utcnow()),
                          _("The cycle %(year)s was saved.", year=cycle.year), form=form, fields=CYCLE_FIELDS)
        if outcome:
            return redirect(url_for("secretariat.cycle", cycle_id=cycle.id))
    return render_template("secretariat/cycle_form.html", form=form, cycle=cycle, latest=None,
                           zone=zone, deadline_fields=DEADLINE_FIELDS, stage_fields=STAGE_FIELDS)


def _phase(name: str) -> Phase:
    try:
        return Phase[name.upper()]
    except KeyError:
        abort(404)


@bp.route("/cycles/<int:cycle_id>/phase/<name>", methods=["GET", "POST"])
@recent_login_required
def change_phase(cycle_id, name):
    """GET states what the change will do; POST (with its CSRF token) makes it."""
    cycle = _get_cycle(cycle_id)
    target = _phase(name)
    now = utcnow()
    if request.method == "POST":
        perform(lambda: cycle_service.change_phase(cycle, target, actor=current_user, now=now, by_hand=True),
                _("The cycle %(year)s is now in the phase “%(phase)s”.", year=cycle.year, phase=_(target.title)))
        return redirect(url_for("secretariat.cycle", cycle_id=cycle.id))
    if not perform(lambda: cycle_service.check_phase_change(cycle, target, actor=current_user, now=now,
                                                            by_hand=True)):
        return redirect(url_for("secretariat.cycle", cycle_id=cycle_id))
    timeline = cycle_service.cycle_timeline(cycle)
    scheduled = transition_deadline(cycle.phase, target, timeline) if timeline else None
    return render_template("secretariat/change_phase.html", cycle=cycle, target=target, scheduled=scheduled,
                           now=now, phases=Phase)


# --- member cities -----------------------------------------------------------------------

@bp.route("/cities")
def cities():
    statement = _search(select(City), request.args.get("q", ""), City.name, City.name_latin, City.country_code)
    status = request.args.get("status", type=int)
    if status in {int(s) for s in CityStatus}:
        statement = statement.where(City.status == status)
    country = request.args.get("country", "").upper()
    if country:
        statement = statement.where(City.country_code == country)
    statement = statement.options(selectinload(City.signatures))
    listing = paged(statement, {"name": City.name_latin, "country": City.country_code, "status": City.status},
                    "name")
    countries = db.session.scalars(select(City.country_code).distinct().order_by(City.country_code)).all()
    return render_template("secretariat/cities.html", listing=listing, statuses=list(CityStatus), status=status,
                           countries=countries, country=country)


@bp.route("/cities/new", methods=["GET", "POST"])
def create_city():
    form = CityForm()
    if form.validate_on_submit():
        outcome = perform(lambda: city_service.create_city(form.profile(), actor=current_user, now=utcnow()),
                          lambda city: _("%(name)s was added.", name=city.name), form=form, fields=CITY_FIELDS)
        if outcome:
            return redirect(url_for("secretariat.city", city_id=outcome.value.id))
    return render_template("secretariat/city_form.html", form=form)


def _get_city(city_id: int) -> City:
    return db.session.get(City, city_id) or abort(404)


@bp.route("/cities/<int:city_id>", methods=["GET", "POST"])
def city(city_id):
    city = _get_city(city_id)
    form = CityForm(obj=city)
    if form.validate_on_submit():
        outcome = perform(lambda: city_service.update_city(city, form.profile(), actor=current_user, now=utcnow()),
                          _("%(name)s was saved.", name=city.name), form=form, fields=CITY_FIELDS)
        if outcome:
            return redirect(url_for("secretariat.city", city_id=city.id))
    return _city_page(city, form, DeclarationSignatureForm(formdata=None))


@bp.route("/cities/<int:city_id>/signatures", methods=["POST"])
def record_signature(city_id):
    city = _get_city(city_id)
    form = DeclarationSignatureForm()
    if form.validate_on_submit():
        outcome = perform(lambda: city_service.record_signature(
                city, form=SignatureForm(form.form.data), signed_on=form.signed_on.data,
                signatory_name=form.signatory_name.data, signatory_title=form.signatory_title.data or "",
                place=form.place.data or "", actor=current_user, now=utcnow()),
                          _("The signature was recorded."), form=form, fields=CITY_FIELDS)
        if outcome:
            return redirect(url_for("secretariat.city", city_id=city.id))
    return _city_page(city, CityForm(obj=city, formdata=None), form)


def _city_page(city, form, signature_form):
    return render_template("secretariat/city.html", city=city, form=form, signature_form=signature_form)


# --- people ------------------------------------------------------------------------------

@bp.route("/people")
def people():
    statement = _search(select(User), request.args.get("q", ""), User.name, User.email)
    role = request.args.get("role", type=int)
    if role in {int(r) for r in Role}:
        statement = statement.where(User.id.in_(select(RoleGrant.user_id).where(RoleGrant.role == role)))
    statement = statement.options(selectinload(User.city))
    listing = paged(statement, {"name": User.name, "email": User.email, "created": User.created_dt}, "name")
    return render_template("secretariat/people.html", listing=listing, roles=list(Role), role=role)


def _get_person(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


@bp.route("/people/<int:user_id>")
def person(user_id):
    person = _get_person(user_id)
    return _person_page(person, BoardTermForm(formdata=None), RoleForm(formdata=None))


def _person_page(person, term_form, role_form):
    return render_template("secretariat/person.html", person=person, term_form=term_form, role_form=role_form,
                           today=utcnow().date(), factors=factors.summary(person),
                           can_reset_factor=factors.can_reset(person, actor=current_user),
                           erasure_refusal=personal_data.erasure_refusal(person, actor=current_user))


@bp.route("/people/<int:user_id>/board-terms", methods=["POST"])
@recent_login_required  # who holds a role and serves on the board makes the roll
def add_board_term(user_id):
    person = _get_person(user_id)
    form = BoardTermForm()
    if form.validate_on_submit():
        outcome = perform(lambda: accounts.add_board_term(person, form.starts_on.data, form.ends_on.data, actor=current_user, now=utcnow()),
                          _("The board term was added."), form=form, fields={"": "ends_on"})
        if outcome:
            return redirect(url_for("secretariat.person", user_id=person.id))
    return _person_page(person, form, RoleForm(formdata=None))


@bp.route("/people/<int:user_id>/roles", methods=["POST"])
@recent_login_required  # who holds a role and serves on the board makes the roll
def grant_role(user_id):
    person = _get_person(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _person_page(person, BoardTermForm(formdata=None), form)
    role = Role(form.role.data)
    perform(lambda: accounts.grant_role(person, role, actor=current_user, now=utcnow()),
            _("%(name)s now has the role “%(role)s”.", name=person.name, role=_(role.title)))
    return redirect(url_for("secretariat.person", user_id=person.id))


@bp.route("/people/<int:user_id>/roles/<int:role>/revoke", methods=["POST"])
@recent_login_required  # who holds a role and serves on the board makes the roll
def revoke_role(user_id, role):
    person = _get_person(user_id)
    if role not in {int(r) for r in Role}:
        abort(404)
    role = Role(role)
    perform(lambda: accounts.revoke_role(person, role, actor=current_user, now=utcnow()),
            _("%(name)s no longer has the role “%(role)s”.", name=person.name, role=_(role.title)))
    return redirect(url_for("secretariat.person", user_id=person.id))


@bp.route("/people/<int:user_id>/<any(deactivate, reactivate):action>", methods=["POST"])
@recent_login_required  # who holds a role and serves on the board makes the roll
def set_account_active(user_id, action):
    person = _get_person(user_id)
    is_active = action == "reactivate"
    perform(lambda: accounts.set_account_active(person, is_active, actor=current_user, now=utcnow()),
            _("%(name)s can sign in again.", name=person.name) if is_active
            else _("%(name)s can no longer sign in.", name=person.name))
    return redirect(url_for("secretariat.person", user_id=person.id))


@bp.route("/people/<int:user_id>/second-factor/reset", methods=["POST"])
@recent_login_required  # behind this member's own second factor, typed again
def reset_second_factor(user_id):
    """A person lost every factor: forget them, end their sessions and mail them (they set up a new one)."""
    person = _get_person(user_id)
    perform(lambda: factors.reset_second_factor(person, actor=current_user, now=utcnow()),
            _("The second factor of %(name)s is reset: their sessions ended, they were mailed, and they set up "
              "a new one when they next sign in.", name=person.name))
    return redirect(url_for("secretariat.person", user_id=person.id))


@bp.route("/people/<int:user_id>/erase", methods=["POST"])
@recent_login_required  # it cannot be undone
def erase_person(user_id):
    """Replace a person's name and addresses by a pseudonym everywhere (docs/personal-data.md)."""
    person = _get_person(user_id)
    perform(lambda: personal_data.erase_person(person, actor=current_user, now=utcnow()),
            lambda pseudonym: _("The personal data is erased: this person is now “%(pseudonym)s”.", pseudonym=pseudonym))
    return redirect(url_for("secretariat.person", user_id=person.id))


# --- invitations and mail ----------------------------------------------------------------

@bp.route("/invitations", methods=["GET", "POST"])
def invitations():
    cities = db.session.scalars(select(City).order_by(City.name_latin)).all()
    form = InvitationForm()
    form.set_choices([(role, _(role.title)) for role in Role], cities)
    if form.validate_on_submit():
        city = db.session.get(City, form.city_id.data) if form.city_id.data else None
        outcome = perform(lambda: accounts.invite(form.email.data, Role(form.role.data), name=form.name.data or "", city=city,
                            locale=form.locale.data, actor=current_user, now=utcnow()),
                          _("The invitation is on its way to %(email)s.", email=form.email.data), form=form, fields={"": "city_id"})
        if outcome:
            return redirect(url_for("secretariat.invitations"))
    listing = paged(select(Invitation), {"created": Invitation.created_dt, "email": Invitation.email}, "created")
    return render_template("secretariat/invitations.html", form=form, listing=listing, now=utcnow())


@bp.route("/invitations/<int:invitation_id>/revoke", methods=["POST"])
def revoke_invitation(invitation_id):
    invitation = db.session.get(Invitation, invitation_id) or abort(404)
    perform(lambda: accounts.revoke_invitation(invitation, actor=current_user, now=utcnow()),
            _("The invitation was withdrawn."), "info")
    return redirect(url_for("secretariat.invitations"))


@bp.route("/mail")
def mail():
    """The outbox, newest first, a page at a time by keyset (any page is one indexed read)."""
    statement = select(Mail)
    state = request.args.get("state", type=int)
    if state in {int(s) for s in MailState}:
        statement = statement.where(Mail.state == state)
    page = keyset_paged(statement, Mail.created_dt, Mail.id)
    return render_template("secretariat/mail.html", page=page, failed=int(MailState.FAILED))


# --- criteria ------------------------------------------------------------------------------

CRITERION_FIELDS = {
    "criterion.no_text": f"name_{LOCALES[0]}",
    "criterion.name": "name_{language}",
    "criterion.description": "description_{language}",
    "criterion.low_label": "low_label_{language}",
    "criterion.high_label": "high_label_{language}",
    "criterion.scale": "scale_max",
    "criterion.weight": "weight",
}


def _get_criterion(cycle: Cycle, criterion_id: int) -> Criterion:
    criterion = db.session.get(Criterion, criterion_id)
    if criterion is None or criterion.cycle_id != cycle.id:
        abort(404)
    return criterion


@bp.route("/cycles/<int:cycle_id>/criteria")
def criteria(cycle_id):
    cycle = _get_cycle(cycle_id)
    return render_template("secretariat/criteria.html", cycle=cycle, criteria=criteria_service.cycle_criteria(cycle),
                           is_editable=criteria_editable(cycle.phase))


@bp.route("/cycles/<int:cycle_id>/criteria/new", methods=["GET", "POST"])
def add_criterion(cycle_id):
    cycle = _get_cycle(cycle_id)
    form = CriterionForm()
    if form.validate_on_submit():
        if perform(lambda: criteria_service.add_criterion(cycle, form.spec(), actor=current_user, now=utcnow()),
                   _("The criterion was added."), form=form, fields=CRITERION_FIELDS):
            return redirect(url_for("secretariat.criteria", cycle_id=cycle.id))
    return render_template("secretariat/criterion_form.html", form=form, cycle=cycle, criterion=None,
                           locales=LOCALES, language_names=LANGUAGE_NAMES)


@bp.route("/cycles/<int:cycle_id>/criteria/<int:criterion_id>", methods=["GET", "POST"])
def edit_criterion(cycle_id, criterion_id):
    cycle = _get_cycle(cycle_id)
    criterion = _get_criterion(cycle, criterion_id)
    spec = criteria_service.spec_of(criterion)
    form = CriterionForm(data=CriterionForm.initial(spec))
    if form.validate_on_submit():
        order = tuple(text.locale for text in spec.texts)
        if perform(lambda: criteria_service.update_criterion(criterion, form.spec(order), actor=current_user,
                                                             now=utcnow()),
                   _("The criterion was saved."), form=form, fields=CRITERION_FIELDS):
            return redirect(url_for("secretariat.criteria", cycle_id=cycle.id))
    return render_template("secretariat/criterion_form.html", form=form, cycle=cycle, criterion=criterion,
                           locales=LOCALES, language_names=LANGUAGE_NAMES)


@bp.route("/cycles/<int:cycle_id>/criteria/<int:criterion_id>/remove", methods=["POST"])
def remove_criterion(cycle_id, criterion_id):
    cycle = _get_cycle(cycle_id)
    criterion = _get_criterion(cycle, criterion_id)
    perform(lambda: criteria_service.remove_criterion(criterion, actor=current_user, now=utcnow()),
            _("The criterion was removed."))
    return redirect(url_for("secretariat.criteria", cycle_id=cycle.id))


@bp.route("/cycles/<int:cycle_id>/criteria/<int:criterion_id>/move", methods=["POST"])
def move_criterion(cycle_id, criterion_id):
    cycle = _get_cycle(cycle_id)
    criterion = _get_criterion(cycle, criterion_id)
    offset = -1 if request.form.get("direction") == "up" else 1
    perform(lambda: criteria_service.move_criterion(criterion, offset, actor=current_user, now=utcnow()),
            _("The criterion was moved."))
    return redirect(url_for("secretariat.criteria", cycle_id=cycle.id))


# --- the audit log -----------------------------------------------------------------------

def _audit_filters() -> tuple[AuditFilterForm, AuditFilter]:
    """The filter form read from the address, and what it asks for (everything while it is not valid)."""
    form = AuditFilterForm(formdata=request.args)
    years = db.session.execute(select(Cycle.id, Cycle.year).order_by(Cycle.year.desc())).all()
    titles = {key: _(title, old="…", new="…") for key, title in ACTION_TITLES.items()}
    form.set_choices(dict(sorted(titles.items(), key=lambda item: item[1])), [(row.id, row.year) for row in years])
    if not request.args or not form.validate():
        return form, AuditFilter()
    return form, form.filters(local_zone())


@bp.route("/audit")
def audit_log():
    """The audit log, newest first, filtered, a page at a time by keyset."""
    form, filters = _audit_filters()
    page = keyset_paged(filtered_entries(filters).options(selectinload(AuditEntry.actor)), AuditEntry.dt,
                        AuditEntry.id)
    return render_template("secretariat/audit.html", form=form, page=page, action_titles=ACTION_TITLES,
                           phases=Phase, export_args=page.args if not form.errors else {})


@bp.route("/audit/chain")
def audit_chain():
    """The whole chain walked now: intact, or the first entry where it breaks."""
    result = verify_chain()
    broken = db.session.get(AuditEntry, result.entry_id) if isinstance(result, Break) else None
    return render_template("secretariat/audit_chain.html", result=result, broken=broken,
                           is_intact=not isinstance(result, Break), break_titles=BREAK_TITLES,
                           action_titles=ACTION_TITLES, phases=Phase)


EXPORTS = {"jsonl": (export_json_lines, "application/jsonl; charset=utf-8"),
           "csv": (export_csv, "text/csv; charset=utf-8")}


@bp.route("/audit/export.<any(jsonl, csv):kind>")
def audit_export(kind):
    """The entries the filters ask for, in the chain's order, as JSON lines or CSV, streamed."""
    form, filters = _audit_filters()
    if form.errors:
        return redirect(url_for("secretariat.audit_log", **request.args))
    write, mimetype = EXPORTS[kind]
    response = Response(stream_with_context(write(filters)), mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename=capital-audit-log.{kind}"
    response.headers["Cache-Control"] = "no-store"
    return response


# --- bulk onboarding (docs/roles.md) --------------------------------------------------------------

REPORT_PAGE = 200
OUTCOME_TITLES = {"created": _l("Created"), "updated": _l("Updated"), "unchanged": _l("Unchanged"),
                  "invited": _l("Invited"), "refused": _l("Refused")}
DRY_RUN_TITLES = {"created": _l("To create"), "updated": _l("To update"), "unchanged": _l("Unchanged"),
                  "invited": _l("To invite"), "refused": _l("Refused")}


@bp.route("/onboarding", methods=["GET", "POST"])
def onboarding():
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        job = onboarding_service.start_import(form.kind.data, upload.filename or "", upload.read(), dry_run=True,
                                              actor=current_user, now=utcnow())
        commit()
        return redirect(url_for("secretariat.import_job", job_id=job.id))
    return render_template("secretariat/onboarding.html", form=form, city_columns=onboarding_rows.CITY_COLUMNS,
                           people_columns=onboarding_rows.PEOPLE_COLUMNS)


@bp.route("/onboarding/<int:job_id>")
def import_job(job_id):
    job = db.session.get(ImportJob, job_id) or abort(404)
    report = onboarding_service.report_of(job)
    page = max(request.args.get("page", 1, type=int), 1)
    lines = report.lines[(page - 1) * REPORT_PAGE:page * REPORT_PAGE] if report else []
    pages = -(-len(report.lines) // REPORT_PAGE) if report else 0
    can_import = bool(report and report.dry_run and not report.file_problems
                      and any(line.outcome != "refused" for line in report.lines))
    return render_template("secretariat/import_job.html", job=job, report=report, lines=lines, page=page,
                           pages=pages, problem_text=onboarding_service.problem_text,
                           outcome_titles=OUTCOME_TITLES, dry_titles=DRY_RUN_TITLES,
                           confirm_form=ConfirmImportForm() if can_import else None)


@bp.route("/onboarding/<int:job_id>/import", methods=["POST"])
def run_import_job(job_id):
    checked = db.session.get(ImportJob, job_id) or abort(404)
    if not ConfirmImportForm().validate_on_submit() or not checked.is_dry_run or checked.state != "done":
        abort(400)
    job = onboarding_service.start_import(checked.kind, checked.filename, checked.data, dry_run=False,
                                          actor=current_user, now=utcnow())
    commit()
    return redirect(url_for("secretariat.import_job", job_id=job.id))


@bp.route("/onboarding/<any(cities, people):kind>.csv")
def onboarding_export(kind):
    lines = onboarding_service.export_cities() if kind == "cities" else onboarding_service.export_people()
    response = Response(stream_with_context(lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = f"attachment; filename=capital-{kind}.csv"
    response.headers["Cache-Control"] = "private, no-store"
    return response
