from flask import render_template
from flask_login import current_user
from sqlalchemy import select

from capital.auth.access import role_required
from capital.domain.roles import Role
from capital.extensions import db
from capital.models import Mail
from capital.nominations import bp


@bp.route("/")
@role_required(Role.REPRESENTATIVE)
def dashboard():
    city = current_user.city
    mails = []
    if city is not None:
        mails = db.session.scalars(
            select(Mail).where(Mail.city_id == city.id).order_by(Mail.created_dt.desc()).limit(20)
        ).all()
    return render_template("nominations/dashboard.html", city=city, mails=mails)
