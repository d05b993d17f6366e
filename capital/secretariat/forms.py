from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length, Optional

from capital.config import LOCALES
from capital.forms import strip
from capital.i18n import LANGUAGE_NAMES, _l


class InvitationForm(FlaskForm):
    email = EmailField(_l("E-mail address"), filters=[strip], validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), coerce=int, choices=[])
    city_id = SelectField(_l("City (for a city representative)"), coerce=int, choices=[], validate_choice=False)
    locale = SelectField(_l("Language of the invitation"), choices=[SelectChoice(code, LANGUAGE_NAMES[code]) for code in LOCALES])
    submit = SubmitField(_l("Send the invitation"))

    def set_choices(self, role_titles, cities):
        self.role.choices = [SelectChoice(int(role), title) for role, title in role_titles]
        self.city_id.choices = [SelectChoice(0, "—")] + [SelectChoice(city.id, city.name) for city in cities]
