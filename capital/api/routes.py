from flask import abort, current_app, jsonify, request, url_for
from sqlalchemy import select

from capital.api import PREFIX, bp
from capital.api.openapi import MAX_PER_PAGE, PER_PAGE, build_spec, documented
from capital.api.schemas import (
    CapitalPageSchema, CyclePageSchema, CycleSchema, NomineePageSchema, ReportSchema, ResultSchema,
)
from capital.domain.publication import nominees_are_public, years_of
from capital.domain.timeline import timeline_fields
from capital.extensions import db
from capital.i18n import _
from capital.models import Cycle
from capital.pagination import MAX_PAGE
from capital.public import clock
from capital.public.cache import cached_page
from capital.services import public, reports
from capital.services.criteria import cycle_criteria


def _count(name: str, default: int) -> int:
    """A whole number of at least 1 from the query (``default`` when absent); anything else, such as
    ``null``, ``x`` or ``0``, is a 400, as the document says."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw[:12]) < 1:  # 12 digits: past any page there is
        abort(400)
    return int(raw[:12]) if len(raw) <= 12 else MAX_PAGE + 1


def _page(statement, serialise, schema):
    page = min(_count("page", 1), MAX_PAGE)  # pages past the maximum are the maximum, as documented
    per_page = _count("per_page", PER_PAGE)
    if per_page > MAX_PER_PAGE:
        abort(400)
    pagination = db.paginate(statement, page=page, per_page=per_page, error_out=False)
    return jsonify(schema().dump({"items": [serialise(item) for item in pagination.items], "page": page,
                                  "per_page": per_page, "total": pagination.total, "pages": pagination.pages}))


def _url(endpoint, **values):
    return current_app.config["BASE_URL"].rstrip("/") + url_for(endpoint, **values)


def _city(city):
    return {"name": city.name, "name_latin": city.name_latin, "country_code": city.country_code,
            "latitude": city.latitude, "longitude": city.longitude}


def _cycle(cycle: Cycle, now):
    capital = public.public_capital(cycle, now)
    return {
        "year": cycle.year, "years": list(years_of(cycle.year, cycle.is_biennial)),
        "celebration_date": cycle.celebration_date, "is_biennial": cycle.is_biennial,
        "phase": public.shown_phase(cycle, now).name.lower(), "method": cycle.method,
        "deadlines": {name.removesuffix("_dt"): getattr(cycle, name) for name in timeline_fields(cycle)},
        "nominees_public": nominees_are_public(cycle.phase), "result_public": public.is_result_public(cycle, now),
        "capital": _city(capital) if capital is not None else None,
        "url": _url("public.year_page", year=cycle.year),
    }


def _cycle_or_404(year: int) -> Cycle:
    cycle = public.cycle_for_year(year)
    if cycle is None:
        abort(404)
    return cycle


def _not_public(message: str):
    return jsonify({"error": _("Not public yet"), "message": message}), 404


@bp.route("/capitals")
@cached_page(public.next_embargo_end)
@documented("Every capital whose announcement is public, latest first.", CapitalPageSchema, paged=True)
def capitals():
    """The archive: one item per designated capital, with the years of 16 May it hosts."""
    now = clock.now()

    def item(cycle):
        capital = public.as_capital(cycle, now)
        return {"years": list(capital.years), "city": _city(capital.city),
                "url": _url("public.year_page", year=capital.years[0])}
    return _page(public.public_capitals_query(now), item, CapitalPageSchema)


@bp.route("/cycles")
@cached_page(public.next_embargo_end)
@documented("Every cycle with its phase and public deadlines, latest first.", CyclePageSchema, paged=True)
def cycles():
    """The capital of a cycle is null until its result is public."""
    now = clock.now()
    return _page(select(Cycle).order_by(Cycle.year.desc()), lambda cycle: _cycle(cycle, now), CyclePageSchema)


@bp.route("/cycles/<int:year>")
@cached_page(public.next_embargo_end)
@documented("The cycle of one year's 16 May.", CycleSchema, errors=(404,))
def cycle(year):
    """A biennial cycle answers for both its years."""
    return jsonify(CycleSchema().dump(_cycle(_cycle_or_404(year), clock.now())))


@bp.route("/cycles/<int:year>/nominees")
@cached_page(public.next_embargo_end)
@documented("The nominees of a cycle, once nominations have closed.", NomineePageSchema, paged=True,
            errors=(404,))
def nominees(year):
    """Submitted and eligible nominations, by title; 404 before nominations close."""
    cycle = _cycle_or_404(year)
    if not nominees_are_public(cycle.phase):
        return _not_public(_("The nominees are published here once nominations have closed."))
    finalists = public.public_finalists(cycle, clock.now())
    return _page(public.public_nominees_query(cycle),
                 lambda n: {"title": n.title, "host_city": _city(n.host_city),
                            "nominating_city": _city(n.nominating_city), "is_shortlisted": n.id in finalists},
                 NomineePageSchema)


@bp.route("/cycles/<int:year>/result")
@cached_page(public.next_embargo_end)
@documented("How the vote went, once the result is announced.", ResultSchema, errors=(404,))
def result(year):
    """Every counted round with the tally engine's JSON; 404 before the announcement time."""
    cycle = _cycle_or_404(year)
    now = clock.now()
    if not public.is_result_public(cycle, now):
        return _not_public(_("The result is published at the announcement."))
    capital = public.public_capital(cycle, now)
    rounds = [{"round": r.round.number, "method": r.method, "winner": r.tally.get("winner"),
               "eligible_voters": r.eligible_voters, "ballots_cast": r.ballots_cast,
               "is_quorum_met": r.is_quorum_met, "tie_break_order": list(r.tally.get("tie_break") or []),
               "checksum": r.checksum, "tally": r.tally} for r in public.public_results(cycle, now)]
    return jsonify(ResultSchema().dump({"year": cycle.year, "capital": _city(capital) if capital else None,
                                        "rounds": rounds}))


@bp.route("/cycles/<int:year>/report")
@cached_page(public.next_embargo_end)
@documented("The jury report, in every language it is written in, once the result is announced.", ReportSchema,
            errors=(404,))
def report(year):
    """The citation, the reasons against each criterion and the notes on the other finalists; 404 before
    the announcement time, and for a cycle without a report."""
    cycle = _cycle_or_404(year)
    now = clock.now()
    view = reports.public_report(cycle, now, "en")
    if view is None:
        if not public.is_result_public(cycle, now):
            return _not_public(_("The result is published at the announcement."))
        abort(404)
    texts = []
    for locale in view.languages:
        shown = reports.report_view(cycle, locale, texts=view.texts)
        texts.append({"language": locale, "citation": view.texts[locale].citation,
                      "reasons": dict(view.texts[locale].reasons),
                      "finalists": [{"city": _city(note.city), "text": "\n\n".join(note.paragraphs)}
                                    for note in shown.finalists]})
    criteria = [{"id": str(c.id), "names": {text["locale"]: text["name"] for text in c.texts}}
                for c in cycle_criteria(cycle)]
    return jsonify(ReportSchema().dump({"year": cycle.year, "capital": _city(cycle.capital_city), "criteria": criteria,
                                        "first_language": reports.report_of(cycle).first_locale,
                                        "languages": view.languages, "texts": texts}))


@bp.route("/openapi.json")
@cached_page(public.next_embargo_end)
@documented("This document: the OpenAPI 3 description of the API.", None)
def openapi():
    """Built from the code at each start: the routes and the schemas that serialise them."""
    return jsonify(build_spec(current_app, _url("public.home").rstrip("/") + PREFIX, PREFIX))
