from datetime import datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import get_locale, get_timezone
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField, DateField, EmailField, RadioField, SelectChoice,
    SelectField, StringField, SubmitField, TextAreaField, ValidationError,
)
from wtforms.validators import StopValidation
from wtforms.widgets import HiddenInput
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional, StopValidation

from capital.domain.criteria import DEFAULT_SCALE, TEXT_FIELDS as CRITERION_TEXT_FIELDS, CriterionSpec, CriterionText
from capital.domain.dossier import DossierLimits
from capital.domain.localisation import LOCALES, is_timezone, timezone_names
from capital.domain.eligibility import RULE_SWITCHES, EligibilityRules
from capital.domain.membership import CityStatus, SignatureForm
from capital.domain.roles import Role
from capital.domain.timeline import DEADLINE_FIELDS, DEADLINE_LABELS, STAGE_FIELDS, Timeline, celebration_day
from capital.forms import DateTimeLocalField, DecimalField, IntegerField, bounded_int, strip
from capital.i18n import LANGUAGE_NAMES, _, _l, timezone_choices
from capital.models import TALLY_METHODS
from capital.services.cities import CityProfile, country_codes, is_country_code
from capital.services.cycles import MAX_SHORTLIST_SIZE, REMINDER_DAYS_MESSAGE, CycleSettings

# datetime-local inputs send "2027-01-16T13:00"; some browsers add seconds.
LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]

METHOD_TITLES = {
    "schulze": _l("Schulze (ranked ballots, pairwise comparison)"),
    "ranked_pairs": _l("Ranked pairs"),
    "irv": _l("Instant-runoff"),
    "borda": _l("Borda count"),
    "plurality": _l("Plurality (first choices only)"),
}

_WORD_LIMITS = {"title_words": "title", "summary_words": "summary", "programme_words": "programme"}


class InvitationForm(FlaskForm):
    email = EmailField(_l("E-mail address"), filters=[strip], validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), coerce=bounded_int, choices=[])
    city_id = SelectField(_l("City (for a city representative)"), coerce=bounded_int, choices=[], validate_choice=False)
    locale = SelectField(_l("Language of the invitation"), choices=[SelectChoice(code, LANGUAGE_NAMES[code]) for code in LOCALES])
    submit = SubmitField(_l("Send the invitation"))

    def set_choices(self, role_titles, cities):
        self.role.choices = [SelectChoice(int(role), title) for role, title in role_titles]
        self.city_id.choices = [SelectChoice(0, "—")] + [SelectChoice(city.id, city.name) for city in cities]


def reminder_days(text: str) -> tuple[int, ...] | None:
    """"14, 3, 1" as (14, 3, 1); None when it is not a list of whole numbers."""
    parts = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    return tuple(int(part) for part in parts) if all(part.isdigit() for part in parts) else None


def _check_reminder_days(form, field) -> None:
    days = reminder_days(field.data or "")
    if days is None or not all(1 <= day <= 365 for day in days):
        raise ValidationError(_(REMINDER_DAYS_MESSAGE))


def _deadline(name: str) -> DateTimeLocalField:
    """The field for the deadline ``name``, labelled as the domain names it."""
    return DateTimeLocalField(_l(DEADLINE_LABELS[name]), format=LOCAL_FORMATS, validators=[DataRequired()])


def _stage_held(form, stage: str) -> bool:
    if stage == "assessment":
        return bool(form.has_assessment.data)
    return bool(form.shortlist_size.data)


def _stage_date(stage: str):
    """A validator: the date is needed when the cycle holds ``stage``, and ignored otherwise."""
    def check(form, field):
        if not _stage_held(form, stage):
            field.errors[:] = []
            field.data = None
            raise StopValidation()
        if not (field.raw_data and field.raw_data[0].strip()):
            field.errors[:] = []  # not "not a valid date": nothing was typed
            raise StopValidation(_("Give this date, or turn this stage off."))
    return check


def _stage_deadline(name: str, stage: str) -> DateTimeLocalField:
    """The field for the deadline ``name`` of the optional ``stage``."""
    return DateTimeLocalField(_l(DEADLINE_LABELS[name]), format=LOCAL_FORMATS, validators=[_stage_date(stage)])


class CycleForm(FlaskForm):
    """A cycle's timeline (in the secretariat member's time zone) and its rules."""

    year = IntegerField(_l("Year of the 16 May celebration"), validators=[InputRequired(), NumberRange(2019, 2999)])
    # Set when the form was pre-filled from an earlier cycle ("copy last year's settings").
    copy_from = IntegerField(widget=HiddenInput(), validators=[Optional()])

    nominations_open_dt = _deadline("nominations_open_dt")
    nominations_close_dt = _deadline("nominations_close_dt")
    voting_open_dt = _deadline("voting_open_dt")
    voting_close_dt = _deadline("voting_close_dt")
    announcement_dt = _deadline("announcement_dt")
    nomination_reminder_days = StringField(_l("Reminders before the nomination deadline (days)"),
                                           validators=[_check_reminder_days])

    has_assessment = BooleanField(_l("Assessors score every eligible dossier against the criteria"))
    assessment_open_dt = _stage_deadline("assessment_open_dt", "assessment")
    assessment_close_dt = _stage_deadline("assessment_close_dt", "assessment")
    # Left empty, as 0: no shortlist.
    shortlist_size = IntegerField(_l("Finalists on the shortlist"),
                                  validators=[Optional(), NumberRange(0, MAX_SHORTLIST_SIZE)])
    shortlist_open_dt = _stage_deadline("shortlist_open_dt", "shortlist")
    shortlist_close_dt = _stage_deadline("shortlist_close_dt", "shortlist")
    shortlist_publication_dt = _stage_deadline("shortlist_publication_dt", "shortlist")
    finalist_update_close_dt = _stage_deadline("finalist_update_close_dt", "shortlist")

    method = SelectField(_l("Counting method"),
                         choices=[SelectChoice(method, METHOD_TITLES[method]) for method in TALLY_METHODS])
    quorum_percent = DecimalField(_l("Quorum: share of the board that must vote (%)"), places=1,
                                  validators=[InputRequired(), NumberRange(min=Decimal("0.1"), max=100)])
    max_rounds = IntegerField(_l("Most voting rounds"), validators=[InputRequired(), NumberRange(1, 5)])
    is_secret = BooleanField(_l("Secret ballot"))
    allows_ballot_replacement = BooleanField(_l("Board members may change their ballot until the deadline"))
    requires_recusal = BooleanField(_l("Board members from a nominating or nominated city must stand aside"))

    nominator_in_good_standing = BooleanField(_l("The nominating city must be a member in good standing"))
    host_in_good_standing = BooleanField(_l("The host city must be a member in good standing"))
    one_nomination_per_city = BooleanField(_l("One nomination per nominating city"))
    recent_capital_years = IntegerField(_l("Years a former capital must wait before it can be nominated again"),
                                        validators=[InputRequired(), NumberRange(0, 20)])
    host_consent_letter = BooleanField(_l("A letter of commitment from the host city's mayor is required"))
    dossier_complete = BooleanField(_l("The dossier must be complete"))
    title_words = IntegerField(_l("Most words in the title"), validators=[InputRequired(), NumberRange(1, 1000)])
    summary_words = IntegerField(_l("Most words in the summary (per language)"),
                                 validators=[InputRequired(), NumberRange(1, 100000)])
    programme_words = IntegerField(_l("Most words in the programme (per language)"),
                                   validators=[InputRequired(), NumberRange(1, 100000)])

    submit = SubmitField(_l("Save"))

    @staticmethod
    def initial(timeline: Timeline, settings: CycleSettings, zone: ZoneInfo, **extra) -> dict:
        """The form's values for ``timeline`` (shown in ``zone``) and ``settings``."""
        data = {name: value.astimezone(zone).replace(tzinfo=None) for name, value in timeline.deadlines().items()}
        data |= {
            "method": settings.method,
            "quorum_percent": Decimal(settings.quorum_share) * 100,
            "max_rounds": settings.max_rounds,
            "is_secret": settings.is_secret,
            "allows_ballot_replacement": settings.allows_ballot_replacement,
            "requires_recusal": settings.requires_recusal,
            "recent_capital_years": settings.rules.recent_capital_years,
            "nomination_reminder_days": ", ".join(str(days) for days in settings.nomination_reminder_days),
            "has_assessment": settings.has_assessment,
            "shortlist_size": settings.shortlist_size,
        }
        data |= {name: getattr(settings.rules, name) for name in RULE_SWITCHES}
        data |= {field: getattr(settings.rules.dossier_limits, limit) for field, limit in _WORD_LIMITS.items()}
        return data | extra

    def timeline(self, year: int, zone: ZoneInfo) -> Timeline:
        """The deadlines entered, read as local times in ``zone`` and kept in UTC."""
        names = [*DEADLINE_FIELDS, *(name for stage, fields in STAGE_FIELDS.items() if _stage_held(self, stage)
                                     for name in fields)]
        deadlines = {name: getattr(self, name).data.replace(tzinfo=zone).astimezone(timezone.utc) for name in names}
        return Timeline(**deadlines, celebration_date=celebration_day(year))

    def settings(self) -> CycleSettings:
        rules = EligibilityRules(
            **{name: bool(getattr(self, name).data) for name in RULE_SWITCHES},
            recent_capital_years=self.recent_capital_years.data,
            dossier_limits=DossierLimits(**{limit: getattr(self, field).data for field, limit in _WORD_LIMITS.items()}),
        )
        return CycleSettings(
            method=self.method.data,
            quorum_share=(self.quorum_percent.data / 100).quantize(Decimal("0.001")),
            max_rounds=self.max_rounds.data,
            is_secret=self.is_secret.data,
            allows_ballot_replacement=self.allows_ballot_replacement.data,
            requires_recusal=self.requires_recusal.data,
            rules=rules,
            nomination_reminder_days=reminder_days(self.nomination_reminder_days.data or "") or (),
            has_assessment=bool(self.has_assessment.data),
            shortlist_size=self.shortlist_size.data or 0,
        )


class CycleEditForm(CycleForm):
    year = None  # a cycle keeps its year
    copy_from = None


def country_choices() -> list[SelectChoice]:
    """Every country, named and sorted in the reader's language."""
    names = get_locale().territories
    codes = sorted(country_codes(), key=lambda code: names.get(code, code))
    return [SelectChoice("", "—")] + [SelectChoice(code, f"{names.get(code, code)} ({code})") for code in codes]


class CityForm(FlaskForm):
    name = StringField(_l("Name, as the city writes it"), filters=[strip], validators=[DataRequired(), Length(max=200)])
    name_latin = StringField(_l("Name in Latin letters (leave empty if the same)"), filters=[strip],
                             validators=[Optional(), Length(max=200)])
    country_code = SelectField(_l("Country"), choices=[], validate_choice=False, validators=[DataRequired()])
    timezone = SelectField(_l("Time zone"), validate_choice=False, default="UTC", validators=[DataRequired()])
    contact_email = EmailField(_l("Contact e-mail address"), filters=[strip],
                               validators=[DataRequired(), Email(), Length(max=254)])
    population = IntegerField(_l("Population (optional)"), validators=[Optional(), NumberRange(min=0)])
    status = SelectField(_l("Status"), coerce=bounded_int,
                         choices=[SelectChoice(int(status), _l(status.title)) for status in CityStatus])
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country_code.choices = country_choices()
        self.timezone.choices = timezone_choices(timezone_names())

    def validate_country_code(self, field):
        if not is_country_code(field.data or ""):
            raise ValidationError(_("This is not a known country code."))

    def validate_timezone(self, field):
        if not is_timezone(field.data or ""):
            raise ValidationError(_("This is not a known time zone."))

    def profile(self) -> CityProfile:
        return CityProfile(name=self.name.data, name_latin=self.name_latin.data or "",
                           country_code=self.country_code.data, timezone=self.timezone.data,
                           contact_email=self.contact_email.data, population=self.population.data,
                           status=CityStatus(self.status.data))


class DeclarationSignatureForm(FlaskForm):
    form = SelectField(_l("How the Declaration was signed"), coerce=bounded_int,
                       choices=[SelectChoice(int(form), _l(form.title)) for form in SignatureForm])
    signed_on = DateField(_l("Date of signature"), validators=[DataRequired()])
    signatory_name = StringField(_l("Signed by"), filters=[strip], validators=[DataRequired(), Length(max=200)])
    signatory_title = StringField(_l("Their title (for example, Mayor)"), filters=[strip],
                                  validators=[Optional(), Length(max=200)])
    place = StringField(_l("Place of signature"), filters=[strip], validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Record the signature"))


class BoardTermForm(FlaskForm):
    starts_on = DateField(_l("Term starts on"), validators=[DataRequired()])
    ends_on = DateField(_l("Term ends on"), validators=[DataRequired()])
    submit = SubmitField(_l("Add the term"))


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), coerce=bounded_int, choices=[SelectChoice(int(role), _l(role.title)) for role in Role])
    submit = SubmitField(_l("Give this role"))


def local_zone() -> ZoneInfo:
    """The reader's time zone (their own, then their city's, then UTC)."""
    return ZoneInfo(str(get_timezone()))


class ImportForm(FlaskForm):
    """A CSV file of cities or of people, checked first (docs/roles.md)."""

    kind = RadioField(_l("What the file holds"), choices=[
        SelectChoice("cities", _l("Member cities")), SelectChoice("people", _l("People to invite"))],
        validate_choice=False)
    file = FileField(_l("CSV file (UTF-8, comma or semicolon)"))
    submit = SubmitField(_l("Check the file"))

    # The messages are translated when shown: the error summary lists only text, not lazy strings.
    def validate_kind(self, field):
        if field.data not in ("cities", "people"):
            raise StopValidation(_("Choose what the file holds."))

    def validate_file(self, field):
        if not field.data or not getattr(field.data, "filename", ""):
            raise StopValidation(_("Choose the CSV file."))


class ConfirmImportForm(FlaskForm):
    submit = SubmitField(_l("Import the lines without problems"))


class CriterionForm(FlaskForm):
    """A criterion: its words in any of the seven languages (``name_fr``…), its scale and weight."""

    scale_min = IntegerField(_l("Lowest score"), default=DEFAULT_SCALE[0], validators=[InputRequired()])
    scale_max = IntegerField(_l("Highest score"), default=DEFAULT_SCALE[1], validators=[InputRequired()])
    weight = DecimalField(_l("Weight"), default=Decimal(1), places=None, validators=[InputRequired()])
    submit = SubmitField(_l("Save the criterion"))

    @staticmethod
    def initial(spec: CriterionSpec) -> dict:
        data = {"scale_min": spec.scale_min, "scale_max": spec.scale_max, "weight": spec.weight}
        for text in spec.texts:
            data.update({f"{name}_{text.locale}": getattr(text, name) for name in CRITERION_TEXT_FIELDS})
        return data

    def spec(self, order: tuple[str, ...] = ()) -> CriterionSpec:
        """The criterion the form describes; languages in ``order`` (the criterion's) keep their place."""
        written = [locale for locale in LOCALES if any(self[f"{name}_{locale}"].data for name in CRITERION_TEXT_FIELDS)]
        locales = [locale for locale in order if locale in written] + [l for l in written if l not in order]
        texts = tuple(CriterionText(locale, *(self[f"{name}_{locale}"].data or "" for name in CRITERION_TEXT_FIELDS))
                      for locale in locales)
        return CriterionSpec(texts, self.scale_min.data, self.scale_max.data, self.weight.data)


_CRITERION_LABELS = {
    "name": _l("Name"), "description": _l("Description"),
    "low_label": _l("What the lowest score means"), "high_label": _l("What the highest score means"),
}


def _add_text_fields(form_class) -> None:
    for locale in LOCALES:
        for name, label in _CRITERION_LABELS.items():
            kind = TextAreaField if name == "description" else StringField
            setattr(form_class, f"{name}_{locale}", kind(label, filters=[strip]))


_add_text_fields(CriterionForm)


class AuditFilterForm(FlaskForm):
    """The audit log's filters, read from the address (a GET form: nothing changes, no token)."""

    class Meta:
        csrf = False

    actor = StringField(_l("Who"), filters=[strip], validators=[Optional(), Length(max=254)])
    action = SelectField(_l("What"), choices=[], validate_choice=False)
    cycle = SelectField(_l("Cycle"), coerce=lambda value: bounded_int(value) if value not in ("", None) else None,
                        choices=[], validate_choice=False)
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To (included)"), validators=[Optional()])
    submit = SubmitField(_l("Show"))

    def set_choices(self, action_titles: dict[str, str], years: list[tuple[int, int]]) -> None:
        self.action.choices = [SelectChoice("", _("All"))] + [SelectChoice(key, title) for key, title in action_titles.items()]
        self.cycle.choices = [SelectChoice("", _("All"))] + [SelectChoice(cycle_id, str(year)) for cycle_id, year in years]

    def validate_action(self, field):
        if field.data and field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(_("Choose a kind of entry from the list."))

    def validate_cycle(self, field):
        if field.data is not None and field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(_("Choose a cycle from the list."))

    def validate_since(self, field):
        if field.data and not 1000 <= field.data.year <= 9998:
            raise ValidationError(_("This date is out of range."))

    def validate_until(self, field):
        self.validate_since(field)
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_("The last day must not be before the first."))

    def filters(self, zone: ZoneInfo):
        """The filters this (valid) form asks for; its days are days in ``zone``, the reader's."""
        from capital.services.audit import AuditFilter

        def start_of(day):
            return datetime.combine(day, time.min, zone).astimezone(timezone.utc)

        return AuditFilter(actor=self.actor.data or "", action=self.action.data or "", cycle_id=self.cycle.data,
                           since=start_of(self.since.data) if self.since.data else None,
                           until=start_of(self.until.data + timedelta(days=1)) if self.until.data else None)


class RapporteurForm(FlaskForm):
    """Which board member writes the cycle's jury report (0: nobody but the secretariat)."""

    rapporteur = SelectField(_l("Rapporteur of the jury report"), coerce=bounded_int)
    submit = SubmitField(_l("Give the report to this member"))

    def set_members(self, members) -> None:
        self.rapporteur.choices = [SelectChoice(0, _("Nobody: the secretariat writes it"))] + [
            SelectChoice(member.id, member.name) for member in members]
