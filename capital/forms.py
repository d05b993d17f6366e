"""Pieces shared by the forms of several blueprints.

Use these number fields instead of WTForms' own: a number no column can hold, or ``NaN``,
becomes an error at the field instead of a database error.
"""

import wtforms
import wtforms.validators

from capital.i18n import _l
from capital.inputs import INT_MAX

_TOO_LARGE = _l("This number is too large.")
_NOT_A_NUMBER = _l("Enter a number.")
_DATE_OUT_OF_RANGE = _l("This date is out of range.")

from wtforms import Form


def strip(value):
    """Field filter: drop surrounding spaces pasted along with a value."""
    return value.strip() if isinstance(value, str) else value


def bounded_int(value):
    """``coerce`` for choice fields: an int an integer column can hold, else ValueError (an invalid choice)."""
    number = int(value)
    if not -INT_MAX - 1 <= number <= INT_MAX:
        raise ValueError(str(_TOO_LARGE))
    return number


class IntegerField(wtforms.IntegerField):
    """A whole number that fits an integer column."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not -INT_MAX - 1 <= self.data <= INT_MAX:
            self.data = None
            raise ValueError(str(_TOO_LARGE))


class DecimalField(wtforms.DecimalField):
    """A decimal number; ``NaN`` and infinities are refused (comparing them raises)."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError(str(_NOT_A_NUMBER))


class DateTimeLocalField(wtforms.DateTimeLocalField):
    """A local date and time in years 1000 to 9998: far enough from the calendar's ends for time-zone arithmetic."""

    def pre_validate(self, form):
        # A validation step, not a parsing error: DataRequired would replace a parsing error with its own.
        if self.data is not None and not 1000 <= self.data.year <= 9998:
            raise wtforms.validators.StopValidation(str(_DATE_OUT_OF_RANGE))


# Fields whose inputs are a group (radios, checkboxes): an error links to the first input.
_GROUP_TYPES = frozenset({"RadioField", "MultiCheckboxField", "SelectMultipleField"})
_HIDDEN_TYPES = frozenset({"CSRFTokenField", "HiddenField"})


def add_reasons(form, reasons, fields: dict[str, str]) -> None:
    """Show each refused rule's reason at the field it concerns, the others at the top of ``form``.

    ``fields`` maps a reason code, or the start of one (``"dossier.title"``), to a field name; a
    name may use the reason's parameters (``"summary_{language}"``). The longest match wins;
    the key ``""`` names the field for reasons no other key matches.
    """
    from capital.i18n import translate

    for reason in reasons:
        matches = [prefix for prefix in fields
                   if prefix and (reason.code == prefix or reason.code.startswith(prefix + "."))]
        name = fields[max(matches, key=len)].format(**reason.params) if matches else fields.get("")
        target = form[name] if name and name in form else None
        if target is None:
            form.form_errors.append(translate(reason))
        else:
            target.errors = [*target.errors, translate(reason)]


def error_links(*forms, messages=()) -> list[tuple[str | None, str]]:
    """The error summary of a page: (``#id`` of the field or ``None``, message) for every form's errors."""
    links: list[tuple[str | None, str]] = [(None, message) for message in messages]
    for form in forms:
        if not isinstance(form, Form):
            continue  # a page without this form
        links.extend((None, message) for message in form.form_errors)
        # Fields a template writes itself (the ballot's ranks) give their problems this way.
        links.extend(getattr(form, "field_problems", ()))
        for field in form:
            if field.type in _HIDDEN_TYPES:
                target = None
            else:
                target = f"#{field.id}-0" if field.type in _GROUP_TYPES else f"#{field.id}"
            links.extend((target, message) for message in field.errors if isinstance(message, str))
    return links
