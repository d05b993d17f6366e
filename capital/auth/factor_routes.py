"""The second factor's pages: the challenge at sign-in, setting up an app or a passkey, the person's
sign-in security, and the recovery codes (docs/roles.md)."""

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from capital.auth import bp
from capital.auth.access import pending_or_recent_login, recent_login_required
from capital.auth.attempts import code_checked
from capital.auth.forms import PasskeyForm, RenamePasskeyForm, SecondFactorForm, SetUpAppForm
from capital.domain.second_factor import RECOVERY_CODE_COUNT
from capital.auth.sessions import pending_target, renew_session, start_session
from capital.extensions import db
from capital.i18n import _
from capital.models import Passkey
from capital.models.types import utcnow
from capital.services import factors
from capital.urls import safe_next_url
from capital.views import perform

# Where a refused factor says why: codes at the code field; passkey refusals at the top of the form.
CODE_FIELDS = {"factor.code": "code"}
PASSKEY_FIELDS = {"passkey.name": "name"}
CEREMONY = "_passkey"  # the passkey ceremony under way in this browser
APP_SETUP = "_app_setup"  # the sealed secret of the app being set up
NEW_CODES = "_new_codes"  # recovery codes just made, sealed, until the page that shows them once


def take_ceremony() -> factors.Ceremony | None:
    """The passkey ceremony this browser started; it is used up whatever its outcome."""
    return factors.Ceremony.from_session(session.pop(CEREMONY, None))


def _begin(options_and_ceremony) -> str:
    options, ceremony = options_and_ceremony
    session[CEREMONY] = ceremony.as_session()
    return options


def sign_in_options(user) -> str | None:
    """The passkey options for a page that asks for ``user``'s second factor (None: no passkey)."""
    return _begin(factors.authentication_options(user, now=utcnow())) if user.passkeys else None


def _person():
    """Whose factors a set-up page is about, and whether they are half signed in."""
    pending = g.get("pending_user")
    return (pending, True) if pending is not None else (current_user._get_current_object(), False)


def _factor_added(user, pending: bool, codes: list[str] | None, message: str):
    """After a factor was added: finish signing in (or keep this device signed in), then show the
    recovery codes made for a person who had none, once."""
    if pending:
        target = pending_target()
        start_session(user, second_factor=True)
    else:
        renew_session(user)
        target = url_for("auth.security")
    flash(message, "success")
    return _show_once(codes, target) if codes else redirect(target)


def _show_once(codes: list[str], target: str):
    """Show the new recovery codes on the next page only (kept sealed in the session until then)."""
    session[NEW_CODES] = {"codes": factors.seal(" ".join(codes)), "next": target}
    return redirect(url_for("auth.recovery_codes"))


@bp.route("/security/recovery-codes")
@login_required
def recovery_codes():
    """The recovery codes just made, this once."""
    shown = session.pop(NEW_CODES, None) or {}
    codes = (factors.unseal(shown.get("codes")) or "").split()
    if not codes:
        return redirect(url_for("auth.security"))
    return render_template("auth/recovery_codes.html", codes=codes,
                           target=safe_next_url(shown.get("next")) or url_for("auth.security"))


@bp.route("/two-factor", methods=["GET", "POST"])
def second_factor():
    """The second step of signing in: a code from the app, a recovery code, or a passkey."""
    user = g.get("pending_user")
    if user is None:  # only a half-signed-in person is asked (the guard sends them here)
        return redirect(url_for("public.dashboard" if current_user.is_authenticated else "auth.login"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        outcome = code_checked(user, lambda: perform(lambda: factors.check_second_factor(
            user, code=form.code.data, answer=form.credential.data, ceremony=take_ceremony(), now=utcnow()),
                                                     form=form, fields=CODE_FIELDS))
        if outcome:
            target = pending_target()
            start_session(user, second_factor=True)
            if outcome.value == "recovery":
                flash(_("You signed in with a recovery code; each works once. Recovery codes left: %(count)s. "
                        "If you lost your app or passkey, replace it in your sign-in security.",
                        count=factors.recovery_codes_left(user)), "info")
            return redirect(target)
    status = 401 if form.is_submitted() else 200
    return render_template("auth/second_factor.html", form=form, has_app=user.totp_factor is not None,
                           passkey_options=sign_in_options(user)), status


@bp.route("/security/app", methods=["GET", "POST"])
@pending_or_recent_login
def set_up_app():
    """Set up an authenticator app: its QR code (and the key, to type by hand), then a code to prove it."""
    user, pending = _person()
    secret = factors.unseal(session.get(APP_SETUP))
    if secret is None:  # the same key until it is confirmed, so a reload does not change the QR code
        secret = factors.new_totp_secret()
        session[APP_SETUP] = factors.seal(secret)
    form = SetUpAppForm()
    if form.validate_on_submit():
        outcome = perform(lambda: factors.set_up_totp(user, secret, form.code.data, now=utcnow()),
                          form=form, fields=CODE_FIELDS)
        if outcome:
            session.pop(APP_SETUP, None)
            return _factor_added(user, pending, outcome.value, _("Your authenticator app is set up."))
    uri = factors.totp_uri(user, secret)
    return render_template("auth/set_up_app.html", form=form, pending=pending, required=factors.required_for(user),
                           replacing=user.totp_factor is not None,
                           qr_code=factors.qr_code_svg(uri, _("QR code to scan with your authenticator app")),
                           key=" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)))


@bp.route("/security/passkeys/new", methods=["GET", "POST"])
@pending_or_recent_login
def add_passkey():
    """Create a passkey in the browser (JavaScript, for navigator.credentials), under a name."""
    user, pending = _person()
    form = PasskeyForm()
    if form.validate_on_submit():
        outcome = perform(lambda: factors.register_passkey(user, form.name.data, form.credential.data,
                                                           take_ceremony(), now=utcnow()),
                          form=form, fields=PASSKEY_FIELDS)
        if outcome:
            return _factor_added(user, pending, outcome.value,
                                 _("The passkey “%(name)s” is added.", name=" ".join(form.name.data.split())))
    options = _begin(factors.registration_options(user, now=utcnow()))
    return render_template("auth/add_passkey.html", form=form, pending=pending, passkey_options=options)


@bp.route("/security")
@login_required
def security():
    """The person's sign-in security: their app, passkeys and recovery codes."""
    user = current_user._get_current_object()
    return render_template("auth/security.html", person=user, required=factors.required_for(user),
                           codes_left=factors.recovery_codes_left(user), has_factor=factors.has_second_factor(user),
                           can_remove=factors.can_remove_a_factor(user), total=RECOVERY_CODE_COUNT)


@bp.route("/security/app/remove", methods=["POST"])
@recent_login_required
def remove_app():
    user = current_user._get_current_object()
    if perform(lambda: factors.remove_totp(user, now=utcnow()), _("The authenticator app is removed.")):
        renew_session(user)
    return redirect(url_for("auth.security"))


def _own_passkey(passkey_id: int) -> Passkey:
    passkey = db.session.get(Passkey, passkey_id)
    if passkey is None or passkey.user_id != current_user.id:
        abort(404)
    return passkey


@bp.route("/security/passkeys/<int:passkey_id>", methods=["GET", "POST"])
@login_required
def rename_passkey(passkey_id):
    passkey = _own_passkey(passkey_id)
    form = RenamePasskeyForm(obj=passkey) if request.method == "GET" else RenamePasskeyForm()
    if form.validate_on_submit():
        if perform(lambda: factors.rename_passkey(passkey, form.name.data, now=utcnow()),
                   _("The passkey is renamed."), form=form, fields=PASSKEY_FIELDS):
            return redirect(url_for("auth.security"))
    return render_template("auth/rename_passkey.html", form=form, passkey=passkey)


@bp.route("/security/passkeys/<int:passkey_id>/remove", methods=["POST"])
@recent_login_required
def remove_passkey(passkey_id):
    passkey = _own_passkey(passkey_id)
    user = current_user._get_current_object()
    if perform(lambda: factors.remove_passkey(passkey, now=utcnow()),
               _("The passkey “%(name)s” is removed.", name=passkey.name)):
        renew_session(user)
    return redirect(url_for("auth.security"))


@bp.route("/security/recovery-codes/new", methods=["POST"])
@recent_login_required
def new_recovery_codes():
    """Ten new recovery codes; the earlier ones stop working."""
    outcome = perform(lambda: factors.regenerate_recovery_codes(current_user._get_current_object(), now=utcnow()),
                      _("Here are your new recovery codes; the earlier ones no longer work."))
    return _show_once(outcome.value, url_for("auth.security")) if outcome else redirect(url_for("auth.security"))

