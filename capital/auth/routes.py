import json

from flask import Response, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale, refresh
from flask_login import current_user, login_required

from capital import throttle
from capital.auth import bp
from capital.auth.attempts import code_checked, password_checked
from capital.auth.factor_routes import CODE_FIELDS, sign_in_options, take_ceremony
from capital.auth.forms import (
    AcceptInvitationForm, ConfirmPasswordForm, LoginForm, ResetRequestForm, SetPasswordForm, SettingsForm,
)
from capital.auth.sessions import PENDING, begin_sign_in, confirm_password, end_session
from capital.extensions import db, login_manager
from capital.domain.localisation import LOCALES, timezone_names
from capital.i18n import LANGUAGE_NAMES, _, _l, translate, zone_name
from capital.models.types import utcnow
from capital.auth.access import recent_login_required
from capital.services import accounts, factors, personal_data
from capital.services.dispatch import commit
from capital.urls import safe_next_url
from capital.views import perform

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in to see this page.")
login_manager.login_message_category = "info"


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("public.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        user = password_checked(form.email.data,
                                lambda: accounts.authenticate(form.email.data, form.password.data, utcnow()))
        if user is not None:
            commit()
            return begin_sign_in(user, safe_next_url(request.args.get("next")) or url_for("public.dashboard"))
        form.password.errors.append(_("Wrong e-mail address or password."))
    status = 401 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out; half signed in, give up signing in."""
    if current_user.is_authenticated:
        accounts.sign_out(current_user._get_current_object())
        commit()
    elif PENDING not in session:
        return redirect(url_for("auth.login"))
    end_session()
    flash(_("You are signed out."), "info")
    return redirect(url_for("public.home"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@throttle.limit("invitation", "CAPITAL_INVITATION_LIMIT")
def accept_invitation(token):
    now = utcnow()
    try:
        invitation = accounts.load_invitation(token, now)
    except accounts.AccountError as error:
        return render_template("auth/invitation_invalid.html", errors=[translate(error.reason)]), 410
    if "locale" not in session and not current_user.is_authenticated:
        # The page speaks the invitation's language (that of its mail) unless the reader picked one.
        session["locale"] = invitation.locale
        refresh()
    form = AcceptInvitationForm(name=invitation.name)
    if form.validate_on_submit():
        try:
            user = accounts.accept_invitation(token, name=form.name.data, password=form.password.data, now=now)
        except accounts.AccountError as error:
            db.session.rollback()
            return render_template("auth/invitation_invalid.html", errors=[translate(error.reason)]), 410
        commit()
        flash(_("Welcome to Capital. Your account is ready."), "success")
        return begin_sign_in(user, url_for("public.dashboard"))
    return render_template("auth/accept_invitation.html", form=form, invitation=invitation)


@bp.route("/password-reset", methods=["GET", "POST"])
def request_reset():
    form = ResetRequestForm()
    if form.validate_on_submit():
        limit = current_app.config["CAPITAL_RESET_LIMIT"]
        throttle.hit("password-reset", [("address", throttle.client_address(), limit),
                                        ("account", form.email.data.lower(), limit)])
        accounts.request_password_reset(form.email.data, locale=str(get_locale()), now=utcnow())
        commit()
        flash(_("If this address has an account, a reset link is on its way."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form)


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    form = SetPasswordForm()
    if form.validate_on_submit():
        if not perform(lambda: accounts.reset_password(token, form.password.data, utcnow()),
                       _("Your password is changed. Sign in with it now.")):
            return redirect(url_for("auth.request_reset"))
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)


@bp.route("/confirm-password", methods=["GET", "POST"])
@login_required
def reauthenticate():
    """Type the password again before a sensitive action (and the second factor, for someone who has
    one), then go back to it."""
    user = current_user._get_current_object()
    form = ConfirmPasswordForm()
    target = safe_next_url(request.args.get("next")) or url_for("public.dashboard")
    with_factor = factors.has_second_factor(user)
    if form.validate_on_submit():
        if not password_checked(user.email, lambda: accounts.check_password(user, form.password.data)):
            form.password.errors.append(_("This is not your password."))
        elif not with_factor:
            confirm_password()
            return redirect(target)
        elif code_checked(user, lambda: perform(lambda: factors.check_second_factor(
                user, code=form.code.data, answer=form.credential.data, ceremony=take_ceremony(), now=utcnow()),
                                                 form=form, fields=CODE_FIELDS)):
            confirm_password()
            return redirect(target)
    status = 401 if form.is_submitted() else 200
    return render_template("auth/reauthenticate.html", form=form, with_factor=with_factor,
                           passkey_options=sign_in_options(user)), status


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    form = SettingsForm(obj=current_user) if request.method == "GET" else SettingsForm()
    if request.method == "GET":
        form.timezone.data = current_user.timezone or ""
        form.mail_locale.data = current_user.mail_language
    city_zone = zone_name(current_user.city.timezone) if current_user.city else "UTC"
    form.set_choices([(code, LANGUAGE_NAMES[code]) for code in LOCALES], timezone_names(),
                     _("My city's time zone (%(zone)s)", zone=city_zone))
    if form.validate_on_submit():
        outcome = perform(lambda: accounts.update_settings(
            current_user, name=form.name.data, locale=form.locale.data, mail_locale=form.mail_locale.data or None,
            timezone=form.timezone.data or None, now=utcnow()), _("Your settings are saved."), flash_errors=False)
        if outcome:
            return redirect(url_for("auth.settings"))
        form.timezone.errors.extend(outcome.errors)
    return render_template("auth/settings.html", form=form)


@bp.route("/my-data.json")
@recent_login_required  # a stolen session alone does not carry away everything held on the person
def my_data():
    """Everything Capital holds on the signed-in person, as one JSON file (docs/personal-data.md)."""
    body = json.dumps(personal_data.personal_data(current_user), ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = "attachment; filename=capital-my-data.json"
    response.headers["Cache-Control"] = "no-store"
    return response
