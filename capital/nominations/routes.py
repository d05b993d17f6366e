"""A city representative's pages: their city, its nomination, endorsements."""

from flask import abort, current_app, flash, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from capital.auth.access import role_required
from capital.domain.dossier import BudgetRange, Theme
from capital.domain.eligibility import EligibilityRules
from capital.domain.messages import RuleViolation
from capital.domain.nominations import ACTIVE_STATES, NominationState
from capital.domain.localisation import LOCALES
from capital.domain.roles import Role
from capital.extensions import db
from capital.forms import add_reasons
from capital.i18n import _, format_time, translate
from capital.models import Attachment, Endorsement, Mail, Nomination
from capital.models.types import utcnow
from capital.nominations import bp
from capital.nominations.forms import ConfirmForm, DossierForm, EndorseForm, StartNominationForm
from capital.services import criteria as criteria_service
from capital.services import nominations as service
from capital.services.cycles import cycle_timeline
from capital.services.dispatch import commit
from capital.views import perform


def _own_nomination(nomination_id: int) -> Nomination:
    """The current user's city's nomination, or 404 (another city's is not even confirmed to exist)."""
    nomination = db.session.get(Nomination, nomination_id)
    if nomination is None or not service.is_city_representative(current_user, nomination.nominating_city_id):
        abort(404)
    return nomination


def _visible_nomination(nomination_id: int) -> Nomination:
    nomination = db.session.get(Nomination, nomination_id)
    if nomination is None or not service.can_view(current_user, nomination):
        abort(404)
    return nomination


@bp.route("/")
@role_required(Role.REPRESENTATIVE)
def dashboard():
    city = current_user.city
    cycle = service.current_cycle()
    mine, others, endorsed, start_form, start_refusal = [], [], None, None, ()
    if city is not None and cycle is not None:
        mine = db.session.scalars(select(Nomination).where(
            Nomination.cycle_id == cycle.id, Nomination.nominating_city_id == city.id).order_by(Nomination.created_dt)
        ).all()
        others = db.session.scalars(select(Nomination).options(
            selectinload(Nomination.host_city), selectinload(Nomination.endorsements)).where(
            Nomination.cycle_id == cycle.id, Nomination.nominating_city_id != city.id,
            Nomination.state.in_(ACTIVE_STATES)).order_by(Nomination.submitted_dt)).all()
        endorsed = db.session.scalar(select(Endorsement).where(
            Endorsement.cycle_id == cycle.id, Endorsement.city_id == city.id))
        can_start = service.start_decision(cycle, city, utcnow())
        start_refusal = can_start.reasons
        if can_start:
            start_form = StartNominationForm(host_city_id=city.id)
            start_form.host_city_id.choices = [SelectChoice(host.id, host.name) for host in service.eligible_hosts()]
    mails = []
    if city is not None:
        mails = db.session.scalars(
            select(Mail).where(Mail.city_id == city.id).order_by(Mail.created_dt.desc()).limit(20)).all()
    return render_template("nominations/dashboard.html", city=city, cycle=cycle, mine=mine, others=others,
                           endorsed=endorsed, mails=mails, start_form=start_form, start_refusal=start_refusal,
                           timeline=cycle_timeline(cycle) if cycle else None)


@bp.route("/nominations/new", methods=["POST"])
@role_required(Role.REPRESENTATIVE)
def start():
    cycle = service.current_cycle()
    city = current_user.city
    if cycle is None or city is None:
        abort(404)
    form = StartNominationForm()
    form.host_city_id.choices = [SelectChoice(host.id, host.name) for host in service.eligible_hosts()]
    if not form.validate_on_submit():
        flash(_("Choose a host city from the list."), "error")
        return redirect(url_for("nominations.dashboard"))
    host = db.session.get(type(city), form.host_city_id.data)
    outcome = perform(lambda: service.start_nomination(cycle, city, host, actor=current_user, now=utcnow()),
                      _("Your draft is created. Fill in the dossier and save it as often as you like."))
    if not outcome:
        return redirect(url_for("nominations.dashboard"))
    return redirect(url_for("nominations.edit", nomination_id=outcome.value.id))


def _dossier_input(form: DossierForm) -> service.DossierInput:
    return service.DossierInput(
        title=form.title.data or "",
        host_city_id=form.host_city_id.data,
        texts={locale: (form[f"summary_{locale}"].data or "", form[f"programme_{locale}"].data or "")
               for locale in LOCALES},
        themes={Theme(value) for value in form.themes.data or []},
        expected_participants=form.expected_participants.data,
        partners=form.partners.data or "",
        budget_range=BudgetRange(form.budget_range.data) if form.budget_range.data else None,
    )


def _fill(form: DossierForm, nomination: Nomination) -> None:
    form.host_city_id.data = nomination.host_city_id
    form.title.data = nomination.title
    form.themes.data = list(nomination.themes or [])
    form.expected_participants.data = nomination.expected_participants
    form.partners.data = nomination.partners
    form.budget_range.data = nomination.budget_range or ""
    for text in nomination.texts:
        form[f"summary_{text.locale}"].data = text.summary
        form[f"programme_{text.locale}"].data = text.programme


# Where each rule's reason is shown on the dossier form (see capital.forms.add_reasons).
DOSSIER_FIELDS = {
    "dossier.title": "title",
    "dossier.summary": "summary_{language}",
    "dossier.programme": "programme_{language}",
    "dossier.themes": "themes",
    "dossier.participants": "expected_participants",
    "dossier.budget": "budget_range",
    "dossier.letter": "letter",
    "eligibility.host_consent": "letter",
    "eligibility.host_standing": "host_city_id",
    "eligibility.recent_capital": "host_city_id",
    "nomination.host_unknown": "host_city_id",
}


def _chosen_files(form: DossierForm):
    return [(kind, field) for kind, field in (("letter", form.letter), ("image", form.image))
            if field.data and getattr(field.data, "filename", "")]


def _ask_again_for_files(form: DossierForm) -> None:
    """Browsers never send a chosen file back: say which one must be chosen again."""
    for _kind, field in _chosen_files(form):
        field.errors = [*field.errors, _("Nothing was saved: choose “%(name)s” again before saving.",
                                         name=field.data.filename)]


def _save_dossier(form: DossierForm, nomination: Nomination, now) -> bool:
    """Save the typed dossier, then each chosen file; True when the typed dossier is saved.

    A refused file does not undo the typed changes: they are saved and committed, and the
    file's field says why it was refused and that it must be chosen again. A refused dossier
    (deadline passed, a submitted dossier breaking a rule) saves nothing and keeps the typing.
    """
    try:
        service.save_dossier(nomination, _dossier_input(form), actor=current_user, now=now)
    except RuleViolation as error:
        db.session.rollback()
        add_reasons(form, error.reasons, DOSSIER_FIELDS)
        _ask_again_for_files(form)
        db.session.refresh(nomination)
        return False
    for kind, field in _chosen_files(form):
        upload = field.data
        try:
            with db.session.begin_nested():
                service.attach_file(nomination, kind, upload.filename, upload.read(), actor=current_user, now=now)
        except RuleViolation as error:
            field.errors = [*field.errors, *(translate(reason) for reason in error.reasons),
                            _("Your other changes are saved; choose a corrected file and save again.")]
    commit()
    return True


@bp.route("/nominations/<int:nomination_id>/edit", methods=["GET", "POST"])
@role_required(Role.REPRESENTATIVE)
def edit(nomination_id):
    nomination = _own_nomination(nomination_id)
    form = DossierForm(hosts=service.eligible_hosts())
    now = utcnow()
    if form.validate_on_submit():
        if _save_dossier(form, nomination, now) and not form.errors:
            flash(_("Your dossier was saved at %(time)s.", time=format_time(now, "short")), "success")
            if form.continue_.data and nomination.state == NominationState.DRAFT:
                return redirect(url_for("nominations.submit", nomination_id=nomination.id))
            return redirect(url_for("nominations.edit", nomination_id=nomination.id))
    elif form.is_submitted():
        _ask_again_for_files(form)
    else:
        _fill(form, nomination)
    editable = service.edit_decision(nomination, now)
    checklist = service.check_rules(nomination)
    limits = EligibilityRules.from_dict(nomination.cycle.rules).dossier_limits
    return render_template("nominations/edit.html", nomination=nomination, form=form, checklist=checklist,
                           editable=editable, timeline=cycle_timeline(nomination.cycle), remove_form=ConfirmForm(),
                           limits=limits, max_mb=current_app.config["MAX_UPLOAD_BYTES"] // (1024 * 1024),
                           criteria=criteria_service.cycle_criteria(nomination.cycle)
                           if nomination.cycle.has_assessment else [])


@bp.route("/nominations/<int:nomination_id>")
@login_required
def show(nomination_id):
    nomination = _visible_nomination(nomination_id)
    own = service.is_city_representative(current_user, nomination.nominating_city_id)
    endorse_form = None
    city = current_user.city
    now = utcnow()
    endorse_refusal = ()
    if city is not None and not own and current_user.has_role(Role.REPRESENTATIVE):
        decision = service.endorse_decision(nomination, city, now)
        endorse_form, endorse_refusal = (EndorseForm(), ()) if decision else (None, decision.reasons)
    actions = {}
    if own:  # offer only what the rules allow now
        actions = {"edit": service.edit_decision(nomination, now).ok,
                   "submit": service.submit_decision(nomination, now).ok,
                   "withdraw": service.withdraw_decision(nomination, now).ok}
    return render_template(
        "nominations/show.html", nomination=nomination, own=own, endorse_form=endorse_form, actions=actions,
        endorse_refusal=endorse_refusal,
        checklist=service.check_rules(nomination) if own else None, timeline=cycle_timeline(nomination.cycle),
        can_download=service.can_download(current_user, nomination), confirm_form=ConfirmForm(),
    )


@bp.route("/nominations/<int:nomination_id>/submit", methods=["GET", "POST"])
@role_required(Role.REPRESENTATIVE)
def submit(nomination_id):
    nomination = _own_nomination(nomination_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        if perform(lambda: service.submit_nomination(nomination, actor=current_user, now=utcnow()),
                   _("Your nomination is submitted. A receipt is on its way by e-mail.")):
            return redirect(url_for("nominations.show", nomination_id=nomination.id))
        return redirect(url_for("nominations.edit", nomination_id=nomination.id))
    return render_template("nominations/confirm.html", nomination=nomination, form=form, action="submit",
                           checklist=service.check_rules(nomination),
                           decision=service.submit_decision(nomination, utcnow()),
                           timeline=cycle_timeline(nomination.cycle))


@bp.route("/nominations/<int:nomination_id>/withdraw", methods=["GET", "POST"])
@role_required(Role.REPRESENTATIVE)
def withdraw(nomination_id):
    nomination = _own_nomination(nomination_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        perform(lambda: service.withdraw_nomination(nomination, actor=current_user, now=utcnow()),
                _("Your nomination is withdrawn."), "info")
        return redirect(url_for("nominations.show", nomination_id=nomination.id))
    return render_template("nominations/confirm.html", nomination=nomination, form=form, action="withdraw",
                           checklist=None, decision=service.withdraw_decision(nomination, utcnow()),
                           timeline=cycle_timeline(nomination.cycle))


@bp.route("/nominations/<int:nomination_id>/endorse", methods=["POST"])
@role_required(Role.REPRESENTATIVE)
def endorse(nomination_id):
    nomination = _visible_nomination(nomination_id)
    if not EndorseForm().validate_on_submit() or current_user.city is None:
        abort(400)
    perform(lambda: service.endorse_nomination(nomination, current_user.city, actor=current_user, now=utcnow()),
            _("Your city endorses this nomination."))
    return redirect(url_for("nominations.show", nomination_id=nomination.id))


@bp.route("/nominations/<int:nomination_id>/files/<int:attachment_id>")
@login_required
def download(nomination_id, attachment_id):
    nomination = _visible_nomination(nomination_id)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.nomination_id != nomination.id \
            or not service.can_download(current_user, nomination):
        abort(404)
    response = send_file(service.file_store().path(attachment.storage_key), mimetype=attachment.content_type,
                         as_attachment=True, download_name=attachment.filename, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/nominations/<int:nomination_id>/files/<int:attachment_id>/remove", methods=["POST"])
@role_required(Role.REPRESENTATIVE)
def remove_file(nomination_id, attachment_id):
    nomination = _own_nomination(nomination_id)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.nomination_id != nomination.id or not ConfirmForm().validate_on_submit():
        abort(404)
    perform(lambda: service.remove_file(nomination, attachment, actor=current_user, now=utcnow()),
            _("The file is removed."), "info")
    return redirect(url_for("nominations.edit", nomination_id=nomination.id))
