from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    HiddenField, SelectChoice, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from capital.domain.dossier import BudgetRange, Theme
from capital.domain.localisation import LOCALES
from capital.forms import IntegerField, bounded_int, strip
from capital.i18n import LANGUAGE_NAMES, _, _l


class StartNominationForm(FlaskForm):
    host_city_id = SelectField(_l("Host city"), coerce=bounded_int, validators=[DataRequired()])
    submit = SubmitField(_l("Start the nomination"))


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class DossierForm(FlaskForm):
    """The dossier; while a draft, anything may be missing (the checklist says what)."""

    host_city_id = SelectField(_l("Host city"), coerce=bounded_int)
    title = StringField(_l("Title of the celebration"), filters=[strip], validators=[Optional(), Length(max=300)])
    themes = MultiCheckboxField(_l("Themes of the Düsseldorf summit it serves"), coerce=bounded_int)
    expected_participants = IntegerField(_l("Expected participants"),
                                         validators=[Optional(), NumberRange(min=1, max=10_000_000)])
    partners = TextAreaField(_l("Partners"), validators=[Optional(), Length(max=5000)])
    budget_range = SelectField(_l("Budget range"))
    letter = FileField(_l("Letter of commitment from the host city's mayor (PDF)"))
    image = FileField(_l("Add an image (JPEG, PNG, GIF or WebP)"))
    # The version of the dossier this form started from (capital.domain.revisions).
    version = HiddenField()
    save = SubmitField(_l("Save the draft"))
    continue_ = SubmitField(_l("Save and continue to submission"))

    def __init__(self, *args, hosts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.host_city_id.choices = [SelectChoice(city.id, city.name) for city in hosts]
        self.themes.choices = [SelectChoice(int(theme), _(theme.title)) for theme in Theme]
        self.budget_range.choices = [SelectChoice("", _("Choose…"))] + [
            SelectChoice(budget.value, _(budget.title)) for budget in BudgetRange
        ]

    def text_fields(self):
        """(locale, language name, summary field, programme field) for every supported language."""
        return [(locale, LANGUAGE_NAMES[locale], self[f"summary_{locale}"], self[f"programme_{locale}"])
                for locale in LOCALES]


for _locale in LOCALES:
    setattr(DossierForm, f"summary_{_locale}", TextAreaField(_l("Summary"), validators=[Optional(), Length(max=20000)]))
    setattr(DossierForm, f"programme_{_locale}",
            TextAreaField(_l("Programme for 16 May"), validators=[Optional(), Length(max=100000)]))


class FinalistUpdateForm(FlaskForm):
    update = FileField(_l("Updated dossier or presentation (PDF)"))
    submit = SubmitField(_l("Upload"))


class ConfirmForm(FlaskForm):
    """A confirmation step: the page says what will happen; this button does it."""

    submit = SubmitField(_l("Confirm"))


class VersionedConfirmForm(ConfirmForm):
    """A confirmation of a change to the dossier as the page showed it (submitting, removing a file)."""

    version = HiddenField()


class EndorseForm(FlaskForm):
    submit = SubmitField(_l("Endorse this nomination"))
