"""A city representative's pages: their city, its nomination, endorsements."""

from flask import abort, current_app, flash, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from capital.auth.access import role_required
from capital.domain.dossier import BudgetRange, Theme
from capital.domain.revisions import StaleVersion, merge, parse_version
from capital.domain.eligibility import EligibilityRules
from capital.domain.messages import Message, N_, RuleViolation
from capital.domain.nominations import ACTIVE_STATES, NominationState
from capital.domain.localisation import LOCALES
from capital.domain.roles import Role
from capital.extensions import db
from capital.forms import add_reasons
from capital.i18n import _, _l, format_decimal, format_dt_with_offset, format_time, language_name, translate
from capital.models import Attachment, Endorsement, Mail, Nomination
from capital.models.types import utcnow
from capital.nominations import bp
from capital.nominations.forms import (
    ConfirmForm, DossierForm, EndorseForm, FinalistUpdateForm, StartNominationForm, VersionedConfirmForm,
)
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
    form.version.data = str(nomination.version)
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


def _who_saved(revision) -> str:
    """Who made a change and when, as the person reading the conflict knows them."""
    time = format_dt_with_offset(revision.saved_dt)
    if revision.saved_by_id == current_user.id:
        return _("You saved the dossier at %(time)s, in another tab or window.", time=time)
    if revision.saved_by is None:
        return _("A person whose account is gone saved the dossier at %(time)s.", time=time)
    return _("%(name)s saved the dossier at %(time)s.", name=revision.saved_by.name, time=time)


def _shown_value(name: str, value) -> str:
    """A snapshot value (capital.domain.revisions) as the reader's language writes it."""
    if value in (None, "", []):
        return _("(empty)")
    if name == "themes":
        return ", ".join(_(Theme(item).title) for item in value)
    if name == "budget_range":
        return _(BudgetRange(value).title)
    if name == "state":
        return _(NominationState[value].title)
    if name == "expected_participants":
        return format_decimal(value)
    if name == "letter":
        return value[0]
    if name == "images":
        return ", ".join(item[0] for item in value)
    return str(value)


def _field_label(name: str, form) -> str:
    if name.startswith(("summary_", "programme_")):
        kind, locale = name.split("_", 1)
        text = _("Summary (%(language)s)") if kind == "summary" else _("Programme for 16 May (%(language)s)")
        return text % {"language": language_name(locale)}
    labels = {"state": _("Status"), "host_city": _("Host city"), "letter": _("Letter of commitment"),
              "images": _("Images")}
    if name in labels:
        return labels[name]
    return form[name].label.text if name in form else name


# What the conflict table says of each changed field, after capital.domain.revisions.merge.
MERGE_OUTCOMES = {
    "taken": _l("You had not changed it: the new value is now in your form."),
    "same": _l("You made the same change."),
    "clash": _l("You changed it too: your version is in the form. Choose which to keep."),
    "saved": _l("Already saved in the dossier."),
}


def _conflict_view(conflict: service.DossierConflict, merged: dict[str, str] | None = None) -> dict:
    """The conflict as the page shows it: who saved when, each changed field before and now, and
    (``merged``, for a form) what became of it in the person's form."""
    labels = DossierForm(formdata=None)
    return {
        "saves": [_who_saved(save) for save in conflict.saves],
        "earlier": conflict.earlier,
        "merged": merged is not None,
        "changes": [(_field_label(name, labels), _shown_value(name, before), _shown_value(name, after),
                     str(MERGE_OUTCOMES[merged[name]]) if merged else "")
                    for name, (before, after) in conflict.changes.items()],
    }


def _take_into_form(form: DossierForm, nomination: Nomination, name: str, value) -> None:
    """Put a value saved in between into a field the person had left as it was."""
    if name == "host_city":
        name, value = "host_city_id", nomination.host_city_id
    elif name == "budget_range":
        value = value or ""
    field = form[name]
    field.data, field.raw_data = value, None  # a number field would show what was sent otherwise


def _refuse_stale(form, nomination: Nomination, stale: StaleVersion, typed: dict | None = None) -> dict:
    """After a stale change: say so at the top of ``form``, which now carries the current version;
    with ``typed`` (a dossier form's values), take what others saved into the fields the person
    left as they were, so that saving again loses nobody's work. The conflict to show."""
    db.session.rollback()
    conflict = service.conflict_since(nomination, stale.started_from)
    form.form_errors.append(translate(stale.reason))
    form.version.data = str(nomination.version)
    if typed is None:
        return _conflict_view(conflict)
    merged = merge(conflict.changes, typed)
    for name, outcome in merged.items():
        if outcome == "taken":
            _take_into_form(form, nomination, name, conflict.changes[name][1])
    return _conflict_view(conflict, merged)


def _save_dossier(form: DossierForm, nomination: Nomination, now) -> tuple[bool, dict | None]:
    """Save the typed dossier, then each chosen file; whether the typed dossier is saved, and
    the conflict to show when it is refused because someone saved in between.

    A refused file does not undo the typed changes: they are saved and committed, and the
    file's field says why it was refused and that it must be chosen again. A refused dossier
    (deadline passed, a submitted dossier breaking a rule, a version saved over in between)
    saves nothing and keeps the typing; the chosen files are refused with it.
    """
    try:
        service.save_dossier(nomination, _dossier_input(form), actor=current_user, now=now,
                             version=parse_version(form.version.data))
    except StaleVersion as stale:
        conflict = _refuse_stale(form, nomination, stale, service.snapshot_of_input(_dossier_input(form)))
        _ask_again_for_files(form)
        return False, conflict
    except RuleViolation as error:
        db.session.rollback()
        add_reasons(form, error.reasons, DOSSIER_FIELDS)
        _ask_again_for_files(form)
        db.session.refresh(nomination)
        return False, None
    # The files go with the save just checked against the form's version, under the same lock.
    for kind, field in _chosen_files(form):
        upload = field.data
        try:
            with db.session.begin_nested():
                service.attach_file(nomination, kind, upload.filename, upload.read(), actor=current_user, now=now)
        except RuleViolation as error:
            field.errors = [*field.errors, *(translate(reason) for reason in error.reasons),
                            _("Your other changes are saved; choose a corrected file and save again.")]
    commit()
    form.version.data = str(nomination.version)
    return True, None


@bp.route("/nominations/<int:nomination_id>/edit", methods=["GET", "POST"])
@role_required(Role.REPRESENTATIVE)
def edit(nomination_id):
    nomination = _own_nomination(nomination_id)
    form = DossierForm(hosts=service.eligible_hosts())
    now = utcnow()
    conflict = None
    if form.validate_on_submit():
        saved, conflict = _save_dossier(form, nomination, now)
        if saved and not form.errors:
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
    remove_form = VersionedConfirmForm(formdata=None, version=str(nomination.version))
    return render_template("nominations/edit.html", nomination=nomination, form=form, checklist=checklist,
                           editable=editable, timeline=cycle_timeline(nomination.cycle), remove_form=remove_form,
                           conflict=conflict,
                           limits=limits, max_mb=current_app.config["MAX_UPLOAD_BYTES"] // (1024 * 1024),
                           criteria=criteria_service.cycle_criteria(nomination.cycle)
                           if nomination.cycle.has_assessment else [])


@bp.route("/nominations/<int:nomination_id>")
@login_required
def show(nomination_id, update_form=None):
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
    update_form = update_form or (FinalistUpdateForm() if own and service.finalist_update_decision(nomination, now)
                                  else None)
    return render_template(
        "nominations/show.html", nomination=nomination, own=own, endorse_form=endorse_form, actions=actions,
        endorse_refusal=endorse_refusal,
        checklist=service.check_rules(nomination) if own else None, timeline=cycle_timeline(nomination.cycle),
        can_download=service.can_download(current_user, nomination), confirm_form=ConfirmForm(),
        update_form=update_form, update=service.update_of(nomination), form=update_form,
    )


@bp.route("/nominations/<int:nomination_id>/finalist-update", methods=["POST"])
@role_required(Role.REPRESENTATIVE)
def finalist_update(nomination_id):
    """A finalist's updated dossier or presentation, until its deadline; errors at the field."""
    nomination = _own_nomination(nomination_id)
    form = FinalistUpdateForm()
    if not form.validate_on_submit():
        abort(400)
    upload = form.update.data
    try:
        if not upload or not upload.filename:
            raise RuleViolation(Message(N_("Choose a PDF file to upload."), {}, "finalist_update.no_file"))
        service.attach_finalist_update(nomination, upload.filename, upload.read(), actor=current_user, now=utcnow())
    except RuleViolation as error:
        db.session.rollback()
        form.update.errors = [*form.update.errors, *(translate(reason) for reason in error.reasons)]
        return show(nomination_id, update_form=form)
    commit()
    flash(_("Your updated dossier is uploaded."), "success")
    return redirect(url_for("nominations.show", nomination_id=nomination.id))


@bp.route("/nominations/<int:nomination_id>/submit", methods=["GET", "POST"])
@role_required(Role.REPRESENTATIVE)
def submit(nomination_id):
    nomination = _own_nomination(nomination_id)
    form = VersionedConfirmForm()
    conflict = None
    if form.validate_on_submit():
        try:
            service.submit_nomination(nomination, actor=current_user, now=utcnow(),
                                      version=parse_version(form.version.data))
        except StaleVersion as stale:
            conflict = _refuse_stale(form, nomination, stale)
        except RuleViolation as error:
            db.session.rollback()
            for reason in error.reasons:
                flash(translate(reason), "error")
            return redirect(url_for("nominations.edit", nomination_id=nomination.id))
        else:
            commit()
            flash(_("Your nomination is submitted. A receipt is on its way by e-mail."), "success")
            return redirect(url_for("nominations.show", nomination_id=nomination.id))
    form.version.data = str(nomination.version)  # what this page shows is what "Yes" submits
    return render_template("nominations/confirm.html", nomination=nomination, form=form, action="submit",
                           conflict=conflict,
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
    form = VersionedConfirmForm()
    if attachment is None or attachment.nomination_id != nomination.id or not form.validate_on_submit():
        abort(404)
    try:
        service.remove_file(nomination, attachment, actor=current_user, now=utcnow(),
                            version=parse_version(form.version.data))
    except StaleVersion as stale:
        db.session.rollback()
        latest = service.conflict_since(nomination, stale.started_from).saves[-1]
        flash(" ".join((_("Nothing was removed: the dossier was saved after you opened it."), _who_saved(latest),
                        _("Check the files below, then remove the file again if you still want to."))), "error")
    except RuleViolation as error:
        db.session.rollback()
        for reason in error.reasons:
            flash(translate(reason), "error")
    else:
        commit()
        flash(_("The file is removed."), "info")
    return redirect(url_for("nominations.edit", nomination_id=nomination.id))
