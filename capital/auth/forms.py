from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from capital.forms import strip
from capital.i18n import _l, timezone_choices
from capital.services.accounts import MIN_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail address"), filters=[strip], validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    submit = SubmitField(_l("Sign in"))


# A code field: what the phone shows or a recovery code; never corrected nor capitalised by the browser.
_CODE_INPUT = {"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false",
               "autocorrect": "off"}
# The browser's answer to a passkey ceremony (capital/static/passkeys.js fills it in).
_PASSKEY_ANSWER_LENGTH = 20_000


class PasskeyAnswerField(HiddenField):
    """The browser's answer to one ceremony: never written back into the page, so a refused answer
    is not sent again with the code typed next."""

    def _value(self):
        return ""


class SecondFactorForm(FlaskForm):
    code = StringField(_l("Code"), filters=[strip], validators=[Length(max=40)], render_kw=_CODE_INPUT)
    credential = PasskeyAnswerField(validators=[Length(max=_PASSKEY_ANSWER_LENGTH)])
    submit = SubmitField(_l("Continue"))


class ConfirmPasswordForm(FlaskForm):
    password = PasswordField(_l("Your password"), validators=[DataRequired()])
    code = StringField(_l("Code"), filters=[strip], validators=[Length(max=40)], render_kw=_CODE_INPUT)
    credential = PasskeyAnswerField(validators=[Length(max=_PASSKEY_ANSWER_LENGTH)])
    submit = SubmitField(_l("Confirm and continue"))


class SetUpAppForm(FlaskForm):
    code = StringField(_l("Code the app shows"), filters=[strip], validators=[Length(max=40)],
                       render_kw=_CODE_INPUT | {"inputmode": "numeric"})
    submit = SubmitField(_l("Turn on the app"))


class PasskeyForm(FlaskForm):
    name = StringField(_l("Name of the passkey"), filters=[strip], validators=[Length(max=200)],
                       render_kw={"autocomplete": "off"})
    credential = PasskeyAnswerField(validators=[Length(max=_PASSKEY_ANSWER_LENGTH)])
    submit = SubmitField(_l("Create the passkey"))


class RenamePasskeyForm(FlaskForm):
    name = StringField(_l("Name of the passkey"), filters=[strip], validators=[Length(max=200)],
                       render_kw={"autocomplete": "off"})
    submit = SubmitField(_l("Save the name"))


class SetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)])
    confirm = PasswordField(
        _l("Repeat the password"), validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))]
    )
    submit = SubmitField(_l("Save the password"))


class AcceptInvitationForm(SetPasswordForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Create my account"))


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("E-mail address"), filters=[strip], validators=[DataRequired(), Email()])
    submit = SubmitField(_l("Send me a reset link"))


class SettingsForm(FlaskForm):
    name = StringField(_l("Your name"), filters=[strip], validators=[DataRequired(), Length(max=200)])
    locale = SelectField(_l("Language of the pages"))
    mail_locale = SelectField(_l("Language of the e-mails we send you"), validate_choice=False)  # checked by the service
    timezone = SelectField(_l("Time zone"), validate_choice=False)
    submit = SubmitField(_l("Save my settings"))

    def set_choices(self, languages, zones, city_zone_label):
        self.locale.choices = [SelectChoice(code, name) for code, name in languages]
        self.mail_locale.choices = list(self.locale.choices)
        groups = timezone_choices(zones)
        first = next(iter(groups))
        self.timezone.choices = {first: [("", city_zone_label), *groups[first]], **dict(list(groups.items())[1:])}
