from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from capital.i18n import _l


class DecisionForm(FlaskForm):
    decision = RadioField(_l("Decision"), validators=[InputRequired()], choices=[
        SelectChoice("eligible", _l("Eligible")), SelectChoice("ineligible", _l("Not eligible"))])
    reason = TextAreaField(_l("Reason the city will read"), validators=[Length(max=5000)])
    submit = SubmitField(_l("Record the decision"))
