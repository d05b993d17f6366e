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
