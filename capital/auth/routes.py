from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required, login_user, logout_user

from capital.auth import bp
from capital.auth.forms import AcceptInvitationForm, LoginForm, ResetRequestForm, SetPasswordForm, SettingsForm
from capital.domain.localisation import LOCALES, timezone_names
from capital.extensions import db, limiter, login_manager
from capital.i18n import LANGUAGE_NAMES, _, _l, translate
from capital.models import User
from capital.models.types import utcnow
from capital.services import accounts
from capital.services.dispatch import commit
from capital.urls import safe_next_url
from capital.views import perform

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in to see this page.")
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(user_id: str):
    """The signed-in person; a deactivated account's open sessions end at their next request."""
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.is_active else None


def _failed_login(response) -> bool:
    # Only failed attempts count against the limit: a successful sign-in redirects.
    return response.status_code != 302


def _login_email() -> str:
    return (request.form.get("email") or "").strip().lower()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["CAPITAL_LOGIN_LIMIT"], methods=["POST"], deduct_when=_failed_login)
@limiter.limit(lambda: current_app.config["CAPITAL_LOGIN_LIMIT"], methods=["POST"], deduct_when=_failed_login,
               key_func=_login_email, scope="login-email")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("public.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data, utcnow())
        if user is not None:
            commit()
            login_user(user)
            return redirect(safe_next_url(request.args.get("next")) or url_for("public.dashboard"))
        form.password.errors.append(_("Wrong e-mail address or password."))
    status = 401 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("public.home"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token):
    now = utcnow()
    try:
        invitation = accounts.load_invitation(token, now)
    except accounts.AccountError as error:
        return render_template("auth/invitation_invalid.html", errors=[translate(error.reason)]), 410
    form = AcceptInvitationForm(name=invitation.name)
    if form.validate_on_submit():
        outcome = perform(lambda: accounts.accept_invitation(token, name=form.name.data, password=form.password.data,
                                                             now=now),
                          _("Welcome to Capital. Your account is ready."), flash_errors=False)
        if not outcome:
            return render_template("auth/invitation_invalid.html", errors=outcome.errors), 410
        login_user(outcome.value)
        return redirect(url_for("public.dashboard"))
    return render_template("auth/accept_invitation.html", form=form, invitation=invitation)


@bp.route("/password-reset", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def request_reset():
    form = ResetRequestForm()
    if form.validate_on_submit():
        perform(lambda: accounts.request_password_reset(form.email.data, locale=str(get_locale()), now=utcnow()),
                _("If this address has an account, a reset link is on its way."), "info")
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


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    form = SettingsForm(obj=current_user) if request.method == "GET" else SettingsForm()
    if request.method == "GET":
        form.timezone.data = current_user.timezone or ""
    city_zone = current_user.city.timezone if current_user.city else "UTC"
    form.set_choices([(code, LANGUAGE_NAMES[code]) for code in LOCALES], timezone_names(),
                     _("My city's time zone (%(zone)s)", zone=city_zone))
    if form.validate_on_submit():
        outcome = perform(lambda: accounts.update_settings(current_user, name=form.name.data, locale=form.locale.data,
                                                           timezone=form.timezone.data or None, now=utcnow()),
                          _("Your settings are saved."), flash_errors=False)
        if outcome:
            return redirect(url_for("auth.settings"))
        form.timezone.errors.extend(outcome.errors)
    return render_template("auth/settings.html", form=form)
