from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select

from capital.auth.access import role_required
from capital.domain.roles import Role
from capital.extensions import db
from capital.i18n import _
from capital.models import City, Cycle, Invitation, Mail, RoleGrant, User
from capital.models.types import utcnow
from capital.pagination import paged
from capital.secretariat import bp
from capital.secretariat.forms import InvitationForm
from capital.services import accounts
from capital.services.dispatch import commit


@bp.before_request
@role_required(Role.SECRETARIAT)
def require_secretariat():
    """Every page of this blueprint is for the secretariat only."""


@bp.route("/")
def dashboard():
    counts = {
        "cities": db.session.scalar(select(func.count(City.id))),
        "people": db.session.scalar(select(func.count(User.id))),
        "cycles": db.session.scalar(select(func.count(Cycle.id))),
        "pending_invitations": db.session.scalar(
            select(func.count(Invitation.id)).where(Invitation.accepted_dt.is_(None), Invitation.revoked_dt.is_(None))
        ),
    }
    cycles = db.session.scalars(select(Cycle).order_by(Cycle.year.desc()).limit(5)).all()
    return render_template("secretariat/dashboard.html", counts=counts, cycles=cycles)


def _search(statement, query: str, *columns):
    if query:
        pattern = f"%{query.strip().lower()}%"
        statement = statement.where(or_(*(func.lower(column).like(pattern) for column in columns)))
    return statement


@bp.route("/cities")
def cities():
    statement = _search(select(City), request.args.get("q", ""), City.name, City.name_latin, City.country_code)
    listing = paged(statement, {"name": City.name_latin, "country": City.country_code, "status": City.status},
                    "name")
    return render_template("secretariat/cities.html", listing=listing)


@bp.route("/people")
def people():
    statement = _search(select(User), request.args.get("q", ""), User.name, User.email)
    role = request.args.get("role", type=int)
    if role in {int(r) for r in Role}:
        statement = statement.where(User.id.in_(select(RoleGrant.user_id).where(RoleGrant.role == role)))
    listing = paged(statement, {"name": User.name, "email": User.email, "created": User.created_dt}, "name")
    return render_template("secretariat/people.html", listing=listing, roles=list(Role), role=role)


@bp.route("/cycles")
def cycles():
    listing = paged(select(Cycle), {"year": Cycle.year, "phase": Cycle.phase}, "year")
    return render_template("secretariat/cycles.html", listing=listing)


@bp.route("/invitations", methods=["GET", "POST"])
def invitations():
    cities = db.session.scalars(select(City).order_by(City.name_latin)).all()
    form = InvitationForm()
    form.set_choices([(role, _(role.title)) for role in Role], cities)
    if form.validate_on_submit():
        city = db.session.get(City, form.city_id.data) if form.city_id.data else None
        try:
            accounts.invite(form.email.data, Role(form.role.data), name=form.name.data or "", city=city,
                            locale=form.locale.data, actor=current_user, now=utcnow())
        except accounts.AccountError as error:
            db.session.rollback()
            form.city_id.errors.append(_(error.reason.message, **error.reason.params))
        else:
            commit()
            flash(_("The invitation is on its way to %(email)s.", email=form.email.data), "success")
            return redirect(url_for("secretariat.invitations"))
    listing = paged(select(Invitation), {"created": Invitation.created_dt, "email": Invitation.email}, "created")
    return render_template("secretariat/invitations.html", form=form, listing=listing, now=utcnow())


@bp.route("/invitations/<int:invitation_id>/revoke", methods=["POST"])
def revoke_invitation(invitation_id):
    invitation = db.session.get(Invitation, invitation_id) or abort(404)
    accounts.revoke_invitation(invitation, actor=current_user, now=utcnow())
    commit()
    flash(_("The invitation was withdrawn."), "info")
    return redirect(url_for("secretariat.invitations"))


@bp.route("/mail")
def mail():
    listing = paged(select(Mail), {"created": Mail.created_dt, "state": Mail.state}, "created")
    return render_template("secretariat/mail.html", listing=listing)
