from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField

from capital.domain.assessment import NOTE_LENGTH
from capital.forms import strip
from capital.i18n import _l


def score_field(criterion_id: int) -> str:
    return f"score_{criterion_id}"


def note_field(criterion_id: int) -> str:
    return f"note_{criterion_id}"


class _DossierForm(FlaskForm):
    save = SubmitField(_l("Save the draft"))
    save_next = SubmitField(_l("Save and go to the next dossier"))


def dossier_form(criteria, **kwargs) -> FlaskForm:
    """The scores and notes of one dossier: ``score_<id>`` and ``note_<id>`` per criterion.

    The scores are read by the domain (capital.domain.assessment.read_score), which knows each
    criterion's scale; the form only carries what was typed, so nothing typed is ever lost.
    """
    class DossierForm(_DossierForm):
        """A class of its own for this page: the criteria's fields are added to it below."""

    for criterion in criteria:
        setattr(DossierForm, score_field(criterion.id), StringField(_l("Score"), filters=[strip]))
        setattr(DossierForm, note_field(criterion.id), TextAreaField(
            _l("Note"), render_kw={"maxlength": NOTE_LENGTH, "rows": 3}))
    return DossierForm(**kwargs)


class SubmitAssessmentForm(FlaskForm):
    submit = SubmitField(_l("Submit my assessment"))
