from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField, SubmitField
from wtforms.validators import DataRequired, Email, Length

from capital.config import LOCALES
from capital.forms import strip
from capital.i18n import LANGUAGE_NAMES, _l


class SubscribeForm(FlaskForm):
    """The announcements by mail. Shown on cached pages too: rendered without a CSRF field
    (the page puts the reader's token in, see ``public.cache``), checked by the view."""

    class Meta:
        csrf = False

    email = EmailField(_l("E-mail address"), filters=[strip],
                       validators=[DataRequired(), Email(), Length(max=254)])
    locale = SelectField(_l("Language of the mails"), choices=[SelectChoice(code, LANGUAGE_NAMES[code], render_kw={"lang": code})
                                                           for code in LOCALES])
    submit = SubmitField(_l("Subscribe"))
