from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from capital.forms import strip
from capital.i18n import _, _l


class ConflictForm(FlaskForm):
    reason = TextAreaField(_l("Why do you have a conflict of interest?"), filters=[strip],
                           validators=[DataRequired(message=_l("Say why you have a conflict of interest.")),
                                       Length(max=2000)])
    submit = SubmitField(_l("Stand aside from this vote"))


class RunnerUpForm(FlaskForm):
    reason = TextAreaField(_l("Why does the designated city withdraw? (shown publicly)"), filters=[strip],
                           validators=[DataRequired(message=_l("Say why the designated city withdrew.")),
                                       Length(max=2000)])
    submit = SubmitField(_l("Designate the runner-up"))


def rank_field_name(nomination_id: int) -> str:
    return f"rank_{nomination_id}"


class BallotForm(FlaskForm):
    """The ballot's CSRF token and, when replacing, the replacement code.

    The ranks are plain inputs the template writes from the preloaded ballot rows (one text
    field per nomination: n fields, not n² options); their values and their problems are kept
    here, ``ranks`` and ``rank_errors`` by nomination id, so that the page shows each problem at
    its field and in the error summary (``field_problems``).
    """

    replacement_secret = StringField(
        _l("Your replacement code (shown with your receipt)"), filters=[strip],
        validators=[DataRequired(message=_l("Enter the replacement code you were given with your receipt."))])

    def __init__(self, *args, replacing: bool, nomination_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        if not replacing:
            del self.replacement_secret
        self.nomination_ids = list(nomination_ids)
        self.ranks: dict[int, str] = {}
        self.rank_errors: dict[int, list[str]] = {}

    @property
    def field_problems(self) -> list[tuple[str, str]]:
        """The rank problems for the error summary, in the ballot's order: (``#field``, message)."""
        return [(f"#{rank_field_name(n)}", message) for n in self.nomination_ids for message in self.rank_errors.get(n, ())]


def finalist_field_name(nomination_id: int | str) -> str:
    return f"finalist_{nomination_id}"


def reason_field_name(criterion_id: int | str) -> str:
    return f"reason_{criterion_id}"


def _in_language(shown, text: str):
    """``text`` of a criterion (``shown``, see :func:`capital.domain.criteria.localised`), marked with its
    language when it is not the page's own."""
    if shown.is_own:
        return text
    return Markup('<span lang="{}" dir="{}">{}</span>').format(shown.lang, "rtl" if shown.lang == "ar" else "ltr",
                                                              text)


def report_form(finalists, criteria=(), *, labels_locale: str, data=None):
    """The jury report in one language: the citation, the reasons against each of the cycle's
    ``criteria`` (labelled with its name in the page's ``labels_locale``, else in its first language,
    marked) and a short paragraph on each other finalist; ``form.reason_hints`` holds each reason
    field's hint."""
    from capital.domain.criteria import localised
    from capital.domain.report import CITATION_LIMIT, PARAGRAPH_LIMIT

    class ReportForm(FlaskForm):
        """The reasons' and the finalists' fields are added below: they are known only now."""

        citation = TextAreaField(_l("Citation: a few paragraphs on the designated capital"), filters=[strip],
                                 validators=[DataRequired(message=_l("Write the citation: a few paragraphs on "
                                                                     "the designated capital.")),
                                             Length(max=CITATION_LIMIT)])
        submit = SubmitField(_l("Save this draft"))

    hints = {}
    for criterion in criteria:
        shown = localised(criterion.texts, labels_locale)
        name = reason_field_name(criterion.id)
        setattr(ReportForm, name, TextAreaField(_in_language(shown, shown.text.name), filters=[strip],
                                                validators=[Length(max=PARAGRAPH_LIMIT)]))
        hints[name] = _in_language(shown, shown.text.description) if shown.text.description else None
    for nomination in finalists:
        setattr(ReportForm, finalist_field_name(nomination.id), TextAreaField(
            _("On %(city)s (optional)", city=nomination.host_city.name), filters=[strip],
            validators=[Length(max=PARAGRAPH_LIMIT)]))
    form = ReportForm(data=data)
    form.reason_hints = hints
    return form
