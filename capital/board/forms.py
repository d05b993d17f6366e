from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, SubmitField, TextAreaField
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


def ballot_form(nominations, *, replacing: bool, formdata=None):
    """The ballot: one rank (blank for no preference) per nomination; a replacement code when replacing."""

    class BallotForm(FlaskForm):
        """Its fields are added below: the nominations are known only now."""

    choices = [SelectChoice("", _("No preference"))] + [
        SelectChoice(str(rank), str(rank)) for rank in range(1, len(nominations) + 1)]
    for nomination in nominations:
        # The choice is checked by the ballot rules, which say at the field what is wrong.
        setattr(BallotForm, rank_field_name(nomination.id), SelectField(
            _("Rank for %(city)s: “%(title)s”", city=nomination.host_city.name, title=nomination.title),
            choices=choices, validate_choice=False, default=""))
    if replacing:
        BallotForm.replacement_secret = StringField(
            _l("Your replacement code (shown with your receipt)"), filters=[strip],
            validators=[DataRequired(message=_l("Enter the replacement code you were given with your receipt."))])
    return BallotForm(formdata=formdata) if formdata is not None else BallotForm()


def finalist_field_name(nomination_id: int) -> str:
    return f"finalist_{nomination_id}"


def report_form(finalists, *, data=None):
    """The jury report in one language: the citation, and a short paragraph on each other finalist."""
    from capital.domain.report import CITATION_LIMIT, PARAGRAPH_LIMIT

    class ReportForm(FlaskForm):
        """The finalists' fields are added below: they are known only now."""

        citation = TextAreaField(_l("Citation: a few paragraphs on the designated capital"), filters=[strip],
                                 validators=[DataRequired(message=_l("Write the citation: a few paragraphs on "
                                                                     "the designated capital.")),
                                             Length(max=CITATION_LIMIT)])
        submit = SubmitField(_l("Save this draft"))

    for nomination in finalists:
        setattr(ReportForm, finalist_field_name(nomination.id), TextAreaField(
            _("On %(city)s (optional)", city=nomination.host_city.name), filters=[strip],
            validators=[Length(max=PARAGRAPH_LIMIT)]))
    return ReportForm(data=data)
