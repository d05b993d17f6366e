from flask import (
    Response, abort, current_app, flash, jsonify, make_response, redirect, render_template, request, session, url_for,
)
from flask_babel import force_locale, get_locale
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from capital.domain.countdown import days_to_celebration, next_day_start
from capital.domain.localisation import LOCALES
from capital.domain.phase import DOSSIER_PHASES, Phase
from capital.domain.roles import Role
from capital.domain.timeline import DEADLINE_LABELS, deadlines_behind
from capital.extensions import csrf, db
from capital.i18n import _
from capital.domain.nominations import ACTIVE_STATES
from capital.models import Cycle, Nomination
from capital.models.types import utcnow
from capital.maps import Marker, world_map_svg
from capital import throttle
from capital.public import bp, clock
from capital.public.forms import SubscribeForm
from capital.public.cache import cached_page
from capital.public.feeds import atom_feed, icalendar_file
from capital.public.record import record_pdf
from capital.public.results import SHARE_MAX_AGE, capital_context, count_block, share_text, year_context
from capital.secretariat.forms import METHOD_TITLES
from capital.share_image import share_png
from capital.services import accounts, public, reports, voting
from capital.services.dispatch import commit
from capital.services.health import health_report
from capital.services.mail import subscriber_for_token, unsubscribe as unsubscribe_subscriber, unsubscribe_token
from capital.services.subscriptions import confirm_subscription, pending_subscription, request_subscription
from capital.urls import same_origin, safe_next_url
from capital.views import perform


def _next_embargo_end_or_day(now):
    """When the home page may change on its own: an embargo's end, or midnight UTC (the countdown)."""
    return min(filter(None, (public.next_embargo_end(now), next_day_start(now))))


@bp.route("/")
@cached_page(_next_embargo_end_or_day)
def home():
    now = clock.now()
    capitals = public.public_capitals(now)
    latest_capital = capitals[0].cycle if capitals else None
    upcoming = public.running_cycle()
    behind = deadlines_behind(upcoming.phase, upcoming) if upcoming else ()
    if latest_capital is not None:
        description = _("%(city)s is the Capital of Living Together %(year)s.",
                        city=latest_capital.capital_city.name, year=latest_capital.year)
    else:
        description = _("Every Capital of Living Together since Córdoba 2019.")
    return render_template("public/home.html", latest_capital=latest_capital, upcoming=upcoming, behind=behind,
                           labels=DEADLINE_LABELS,
                           now=now, subscription=subscribe_form(),
                           days_to_celebration=days_to_celebration(now.date()),
                           **(capital_context(latest_capital, now) if latest_capital else {}),
                           share_title=_("Capital of Living Together"), share_description=description)


@bp.route("/about/<any(contact, help, privacy, accessibility):name>")
def about(name):
    """The footer's pages: short, real content in every language (templates/public/about/<name>.html)."""
    config = current_app.config
    # The privacy page states the periods this installation keeps data for (docs/personal-data.md).
    return render_template(f"public/about/{name}.html", contact=config["CAPITAL_CONTACT_EMAIL"],
                           mail_days=config["MAIL_RETENTION_DAYS"], invitation_days=config["INVITATION_DAYS"],
                           idle_minutes=config["SESSION_IDLE_MINUTES"])


@bp.route("/nominees")
@cached_page(public.next_embargo_end)
def nominees():
    """The nominees' names and titles, public once nominations have closed."""
    cycle = db.session.scalar(
        select(Cycle).where(Cycle.phase.in_(DOSSIER_PHASES))
        .order_by(Cycle.year.desc()).limit(1)
    )
    nominations = []
    if cycle is not None:
        nominations = db.session.scalars(
            select(Nomination).options(selectinload(Nomination.host_city))
            .where(Nomination.cycle_id == cycle.id, Nomination.state.in_(ACTIVE_STATES))
            .order_by(Nomination.title)
        ).all()
    now = clock.now()
    finalists = public.public_finalists(cycle, now) if cycle is not None else set()
    return render_template("public/nominees.html", cycle=cycle, nominations=nominations, finalists=finalists,
                           phase=public.shown_phase(cycle, now) if cycle is not None else None)


@bp.route("/<int:year>")
@cached_page(public.next_embargo_end)
def year_page(year):
    """A year's capital and programme, its nominees and, once announced, how the vote went."""
    now = clock.now()
    cycle = public.cycle_for_year(year)
    if cycle is None:
        abort(404)
    return _render_year(cycle, year, now)


def _render_year(cycle, year, now, receipt="", ballot=None):
    context = year_context(cycle, year, now)
    # The audit bundle once the result is public (the bundle itself waits for the announcement too).
    files = list(voting.audit_files(cycle, now)) if context["rounds"] else []
    return render_template("public/year.html", receipt=receipt, ballot=ballot, audit_files=files,
                           vote_url=url_for("public.vote", year=year), **context)


_LOCALE_RULE = f"any({', '.join(LOCALES)})"


@bp.route(f"/<int:year>/share-<{_LOCALE_RULE}:lang>.png")
def share_image(year, lang):
    """The announcement's share picture in ``lang`` (for og:image), once the result is public."""
    cycle = public.cycle_for_year(year)
    if cycle is None:
        abort(404)
    with force_locale(lang):
        text = share_text(cycle, year, clock.now())
    if text is None:
        abort(404)
    return Response(share_png(text), mimetype="image/png",
                    headers={"Cache-Control": f"public, max-age={SHARE_MAX_AGE}", "X-Content-Type-Options": "nosniff"})


@bp.route("/<int:year>/receipt", methods=["POST"])
@csrf.exempt  # a lookup that changes nothing, from a page cached without a token: there is nothing to forge
def receipt_lookup(year):
    """Find a ballot by its receipt code. Posted, so that the code sits in no address: not in the
    request logs of the server or of proxies, nor in the browser's history (SECURITY.md)."""
    now = clock.now()
    cycle = public.cycle_for_year(year)
    if cycle is None:
        abort(404)
    receipt = request.form.get("receipt", "").strip()[:40]
    ballot = public.find_ballot(cycle, receipt, now) if receipt else None
    response = make_response(_render_year(cycle, year, now, receipt, ballot))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/archive")
@cached_page(public.next_embargo_end)
def archive():
    """Every capital since Córdoba 2019, listed and on a world map."""
    capitals = public.public_capitals(clock.now())
    markers = [Marker(c.city.latitude, c.city.longitude, _("%(city)s, %(years)s", city=c.city.name,
                                                           years=", ".join(map(str, c.years))),
                      url_for("public.year_page", year=c.years[0]))
               for c in capitals if c.city.latitude is not None and c.city.longitude is not None]
    world_map = world_map_svg(markers, title=_("Map of the capitals of Living Together"))
    return render_template("public/archive.html", capitals=capitals, world_map=world_map,
                           subscription=subscribe_form(),
                           share_title=_("Archive of the capitals of Living Together"),
                           share_description=_("Every Capital of Living Together since Córdoba 2019."))


@bp.route("/feed.atom")
@cached_page(public.next_embargo_end)
def feed():
    """The announcements, once each is public."""
    now, locale = clock.now(), str(get_locale())
    capitals = public.public_capitals(now)
    body = atom_feed(capitals, locale, {c.cycle.id: reports.public_report(c.cycle, now, locale) for c in capitals},
                     public.public_shortlists(now))
    return Response(body, mimetype="application/atom+xml")


@bp.route("/calendar.ics")
@cached_page(public.next_embargo_end)
def calendar():
    """The current cycle's public deadlines and the 16 May celebration."""
    cycle = public.calendar_cycle()
    shown = dict(public.public_shortlists(clock.now()))
    finalists = shown.get(cycle, []) if cycle is not None else []
    return Response(icalendar_file(cycle, finalists), mimetype="text/calendar",
                    headers={"Content-Disposition": "attachment; filename=capital.ics"})


@bp.route("/dashboard")
@login_required
def dashboard():
    """Send each person to the page of their role; several roles get a choice."""
    pages = [
        (Role.SECRETARIAT, "secretariat.dashboard"),
        (Role.BOARD, "board.dashboard"),
        (Role.REPRESENTATIVE, "nominations.dashboard"),
        (Role.ASSESSOR, "assessment.dashboard"),
        (Role.OBSERVER, "secretariat.audit_log"),
    ]
    mine = [(role, endpoint) for role, endpoint in pages if current_user.has_role(role)]
    if len(mine) == 1:
        return redirect(url_for(mine[0][1]))
    return render_template("public/dashboard.html", pages=mine)


def _protect_public_form() -> None:
    """CSRF check of a form that a cached page may show without a token: the token when the
    form has one, otherwise the browser's word that the form comes from this site."""
    if request.form.get("csrf_token"):
        csrf.protect()
    elif not same_origin(request.headers.get("Origin"), request.referrer, request.host_url,
                         current_app.config["BASE_URL"]):
        raise CSRFError(_("The form has expired"))


@bp.route("/language", methods=["POST"])
@csrf.exempt
def set_language():
    """Change the display language.

    A cached public page served to a first-time reader (no session yet) holds no CSRF token:
    giving each such reader a session and a token would cost more than the page itself. Such a
    form is accepted when the browser says it comes from this site (``Origin``, else
    ``Referer``), the standard check; a form with a token is checked as everywhere else
    (:func:`_protect_public_form`, shared with the subscription form).
    """
    _protect_public_form()
    locale = request.form.get("locale", "")
    if locale not in LOCALES:
        flash(_("This language is not available."), "error")
    else:
        session["locale"] = locale
        if current_user.is_authenticated:  # saved for next time; official mail keeps its own language
            perform(lambda: accounts.update_settings(current_user, name=current_user.name, locale=locale,
                                                     mail_locale=current_user.mail_language,
                                                     timezone=current_user.timezone, now=utcnow()))
    return redirect(safe_next_url(request.form.get("next")) or url_for("public.home"))


@bp.route("/healthz")
def healthz():
    report, healthy = health_report(utcnow())
    return jsonify(report), 200 if healthy else 503


def _cycle_of(year: int) -> Cycle:
    cycle = db.session.scalar(select(Cycle).where(Cycle.year == year))
    if cycle is None:
        abort(404)
    return cycle


@bp.route("/vote/<int:year>")
def vote(year):
    """The vote of a year: the roll count and the tie-break as soon as voting opens; the result,
    the designations and the audit files once announced (before that, nobody outside sees them)."""
    cycle = _cycle_of(year)
    voting_round = voting.current_round(cycle)
    # The same embargo as the year page: the phase and the announcement time both.
    published = public.is_result_public(cycle, clock.now())
    announced = published and cycle.phase == Phase.ANNOUNCED
    result = voting.latest_result(cycle) if published else None
    names = {}
    if voting_round is not None:
        names = voting.nomination_names(voting.ballot_nominations(voting_round))
    block = None
    if result is not None and announced:
        block = count_block(result.tally, request.args.get("rows", 1, type=int), request.args.get("columns", 1, type=int))
    return render_template("public/vote.html", cycle=cycle, voting_round=voting_round, result=result, block=block,
                           announced=announced, tie_break=[names[n] for n in voting_round.tie_break_order]
                           if voting_round else [], designations=voting.designations(cycle) if announced else [],
                           files=list(voting.audit_files(cycle, clock.now())), phase=public.shown_phase(cycle, clock.now()),
                           no_capital_reason=public.no_capital_reason(cycle, clock.now()),
                           no_capital_reasons=voting.NO_CAPITAL_REASONS, method_titles=METHOD_TITLES)


@bp.route(f"/vote/<int:year>/record-<{_LOCALE_RULE}:lang>.pdf")
def record(year, lang):
    """The record of the designation in ``lang``, as a PDF, once the result is public."""
    content = record_pdf(_cycle_of(year), lang, clock.now())
    if content is None:
        abort(404)
    return Response(content, mimetype="application/pdf", headers={
        "Content-Disposition": f"inline; filename={year}-record-{lang}.pdf", "X-Content-Type-Options": "nosniff",
        "Cache-Control": f"public, max-age={SHARE_MAX_AGE}"})


@bp.route("/vote/<int:year>/<name>")
def audit_file(year, name):
    """One file of the announced vote's audit bundle."""
    content = voting.audit_files(_cycle_of(year), clock.now()).get(name)
    if content is None:
        abort(404)
    mimetype = "application/json" if name.endswith(".json") else "text/plain"
    return Response(content, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename={year}-{name}", "X-Content-Type-Options": "nosniff"})


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the credential; mail providers post here in one click (RFC 8058)
def unsubscribe(token):
    """GET asks to confirm; POST (the button, or the mail provider's one-click) unsubscribes."""
    subscriber = subscriber_for_token(token)
    if subscriber is None:
        return render_template("public/unsubscribe.html", subscriber=None), 404
    if request.method == "POST":
        unsubscribe_subscriber(subscriber, now=utcnow())
        commit()
        return render_template("public/unsubscribe.html", subscriber=subscriber, done=True)
    return render_template("public/unsubscribe.html", subscriber=subscriber,
                           done=subscriber.unsubscribed_dt is not None)


def subscribe_form() -> SubscribeForm:
    """The subscription form, in the reader's language unless they chose another."""
    form = SubscribeForm(prefix="subscribe")
    if not form.is_submitted():
        form.locale.data = str(get_locale())
    return form


@bp.route("/subscribe", methods=["GET", "POST"])
@csrf.exempt  # checked by _protect_public_form: the home page and the archive are cached without a token
def subscribe():
    """Ask for the announcements by mail; the answer is the same whether the address is known or not."""
    form = subscribe_form()
    if request.method == "POST":
        _protect_public_form()
        if form.validate():
            email = form.email.data.lower()
            config = current_app.config
            throttle.hit("subscribe", [
                ("address", throttle.client_address(), config["CAPITAL_SUBSCRIBE_ADDRESS_LIMIT"]),
                ("email", email, config["CAPITAL_SUBSCRIBE_LIMIT"])])
            request_subscription(email, form.locale.data, now=clock.now())
            commit()
            flash(_("We have sent a confirmation link to %(email)s. Your subscription starts when you open it.",
                    email=email), "info")
            return redirect(url_for("public.subscribe"))
        return render_template("public/subscribe.html", form=form), 400
    return render_template("public/subscribe.html", form=form)


@bp.route("/subscribe/<token>", methods=["GET", "POST"])
def confirm_subscription_page(token):
    """GET asks to confirm (a mail scanner opening the link confirms nothing); POST confirms."""
    now = clock.now()
    pending = pending_subscription(token, now)
    if pending is None:
        return render_template("public/subscription_confirm.html", pending=None), 404
    if request.method == "POST":
        subscriber = confirm_subscription(token, now=now)
        if subscriber is None:
            return render_template("public/subscription_confirm.html", pending=None), 404
        commit()
        return render_template("public/subscription_confirm.html", pending=pending, subscriber=subscriber,
                               unsubscribe_token=unsubscribe_token(subscriber.id))
    return render_template("public/subscription_confirm.html", pending=pending, subscriber=None)
