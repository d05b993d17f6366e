"""A counted round in the reader's language: the chart, the explanation in words, the table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import url_for
from flask_babel import format_decimal, format_percent, get_locale

from capital.charts import ChartWords, chart_kind, chart_svg, head_to_head, shown_rounds
from capital.i18n import _, text_direction
from capital.maps import Marker, world_map_svg
from capital.models import Cycle, Result
from capital.secretariat.forms import METHOD_TITLES
from capital.services import public, reports
from capital.share_image import ShareText


@dataclass(frozen=True)
class RoundView:
    number: int
    method_title: str
    kind: str  # rounds / matrix / scores (capital.charts.chart_kind)
    svg: str
    sentences: list[str]
    tally: dict[str, Any]
    eligible_voters: int
    ballots_cast: int
    turnout: str
    is_quorum_met: bool
    tie_break_order: list[str]
    checksum: str
    # What the year page's table shows, whatever the number of nominations: for a pairwise count
    # the first city against each other one (no whole matrix), for instant-runoff the first and
    # the last counts; the whole count is in tally.json and, table by table, on /vote/<year>.
    top: str | None
    pairs: list[tuple[str, Any, Any]]
    shown_rounds: list[dict]
    is_whole: bool


def number(value) -> str:
    """A count in the reader's locale; fractions (split equal ranks) keep up to two decimals."""
    return format_decimal(value, format="#,##0.##")


def round_view(result: Result, year: int) -> RoundView:
    tally = result.tally
    kind = chart_kind(tally)
    title = _("How the vote went, round %(number)s", number=result.round.number)
    sentences = explain(tally)
    svg = chart_svg(tally, ChartWords(title=title, description=" ".join(sentences),
                                      round_label=lambda n: _("Count %(number)s", number=n),
                                      eliminated=_("eliminated"),
                                      more=lambda n: _("and %(count)s more", count=number(n)),
                                      versus=lambda first, other: _("%(first)s against %(other)s", first=first,
                                                                    other=other)),
                    number=number, chart_id=f"chart-{year}-{result.round.number}")
    top, pairs = head_to_head(tally) if kind == "matrix" else (None, [])
    rounds = shown_rounds(tally.get("rounds", []))
    return RoundView(
        number=result.round.number, method_title=str(METHOD_TITLES.get(result.method, result.method)),
        kind=kind, svg=svg, sentences=sentences, tally=tally, eligible_voters=result.eligible_voters,
        ballots_cast=result.ballots_cast, turnout=turnout(result), is_quorum_met=result.is_quorum_met,
        tie_break_order=list(tally.get("tie_break") or []), checksum=result.checksum,
        top=top, pairs=pairs, shown_rounds=rounds,
        is_whole=kind == "scores" or (kind == "rounds" and len(rounds) == len(tally.get("rounds", []))),
    )


def turnout(result: Result) -> str:
    """The share of the roll that voted, in the reader's locale ("—" for an empty roll)."""
    return format_percent(result.ballots_cast / result.eligible_voters) if result.eligible_voters else "—"


def explain(tally: dict[str, Any]) -> list[str]:
    """The count told in plain sentences, from the engine's own record."""
    method = tally["method"]
    sentences = []
    if method == "irv":
        sentences.append(_("Each ballot counts for its highest-ranked city still in the count; the city with the "
                           "fewest votes is eliminated and its ballots pass to their next choice, until a city has "
                           "more than half of the votes."))
        for r in tally.get("rounds", []):
            votes = ", ".join(f"{name} {number(v)}" for name, v in
                              sorted(r.get("votes", {}).items(), key=lambda item: -item[1]))
            sentences.append(_("Count %(number)s: %(votes)s.", number=r["round"], votes=votes))
            if r.get("eliminated"):
                sentences.append(_("%(cities)s eliminated.", cities=", ".join(r["eliminated"])))
    elif method in ("schulze", "ranked_pairs"):
        sentences.append(_("Every city is compared with every other, pair by pair: how many ballots preferred "
                           "one to the other."))
        # The winner's comparisons tell the story; the table holds every other pair.
        names, matrix = tally.get("candidates", []), tally.get("matrix", [])
        top = tally.get("winner") or (tally.get("ranking") or [[None]])[0][0]
        if top in names:
            i = names.index(top)
            for j, other in enumerate(names):
                if j != i:
                    sentences.append(_("%(first)s was preferred to %(second)s on %(more)s ballots, the reverse "
                                       "on %(fewer)s.", first=top, second=other, more=number(matrix[i][j]),
                                       fewer=number(matrix[j][i])))
    elif method == "borda":
        sentences.append(_("Each ballot gives points by rank: the more preferred, the more points; equal ranks "
                           "share them. The city with the most points wins."))
    else:
        sentences.append(_("Each ballot counts once, for its first choice; the city with the most first choices "
                           "wins."))
    for use in tally.get("tie_break_used", []):
        sentences.append(_("%(cities)s were tied; the published tie-break order decided: %(order)s.",
                           cities=", ".join(use["tied"]), order=" > ".join(use["resolved"])))
    if tally.get("winner"):
        sentences.append(_("%(city)s won the count.", city=tally["winner"]))
    elif tally.get("tied"):
        sentences.append(_("The count ended in a tie between %(cities)s.", cities=", ".join(tally["tied"])))
    return sentences


def capital_context(cycle: Cycle, now) -> dict:
    """The public capital of ``cycle`` at ``now`` (None before its announcement) and its 16 May
    programme in the reader's language when the city wrote one (the year page and the home page)."""
    locale = get_locale()
    programme = public.programme_text(public.capital_nomination(cycle, now), str(locale))
    return dict(capital=public.public_capital(cycle, now), programme=programme,
                programme_language=locale.languages.get(programme.locale, programme.locale) if programme else "")


# A published share picture changes only with a runner-up's designation.
SHARE_MAX_AGE = 300


def share_text(cycle: Cycle, year: int, now) -> ShareText | None:
    """What the share picture of ``year`` says in the reader's language; None before the result is public."""
    capital = public.public_capital(cycle, now)
    if capital is None:
        return None
    return ShareText(title=_("Capital of Living Together %(year)s", year=year), city=capital.name,
                     day=_("16 May %(year)s", year=year), is_rtl=text_direction() == "rtl")


def capital_map(capital) -> str | None:
    """The world map with the capital's place on it, when its coordinates are known."""
    if capital is None or capital.latitude is None or capital.longitude is None:
        return None
    return world_map_svg([Marker(capital.latitude, capital.longitude, capital.name, "#capital")],
                         title=_("Where %(city)s is", city=capital.name), map_id="capital-map")


def year_context(cycle: Cycle, year: int, now) -> dict:
    """What the year page shows of ``cycle`` at ``now``, in the reader's language (the web page
    and the exhibition export render the same)."""
    shown = capital_context(cycle, now)
    capital = shown["capital"]
    if capital is not None:
        description = _("%(city)s is the Capital of Living Together %(year)s.", city=capital.name, year=year)
    else:
        description = _("The celebration of 16 May %(year)s: the nominees and the designation.", year=year)
    return dict(
        year=year, cycle=cycle, **shown, report=reports.public_report(cycle, now, str(get_locale())),
        phase=public.shown_phase(cycle, now),
        rounds=[round_view(result, year) for result in public.public_results(cycle, now)],
        nominees=public.public_nominees(cycle), nominees_public=public.nominees_are_public(cycle.phase),
        finalists=public.public_finalists(cycle, now),
        number=number, share_title=_("Capital of Living Together %(year)s", year=year),
        share_description=description, capital_map=capital_map(capital),
        share_image=url_for("public.share_image", year=year, lang=str(get_locale())) if capital else None,
    )


# The whole count on /vote/<year> is shown a block of rows and columns at a time.
BLOCK = 20


@dataclass(frozen=True)
class CountBlock:
    """One block of the whole count's table: row labels with their cells, and where it stands."""

    caption: str
    columns: list[str]
    rows: list[tuple[str, list[str]]]
    row_page: int
    row_pages: int
    column_page: int
    column_pages: int
    row_span: tuple[int, int, int]  # first, last, total
    column_span: tuple[int, int, int]


def count_block(tally: dict[str, Any], row_page: int, column_page: int, size: int = BLOCK) -> CountBlock:
    """Block (``row_page``, ``column_page``) of the whole count: the pairwise matrix, the votes in
    every round, or the scores; pages out of range are brought back into it."""
    names = list(tally.get("candidates", []))
    kind = chart_kind(tally)
    if kind == "matrix":
        matrix = tally.get("matrix", [])
        caption = _("Ballots preferring the city of the row to the city of the column")
        columns = [f"{j + 1}. {name}" for j, name in enumerate(names)]
        labels = columns

        def cell(i, j):
            return "—" if i == j else number(matrix[i][j])
    elif kind == "rounds":
        rounds = tally.get("rounds", [])
        caption = _("Votes in each count")
        columns = [_("Count %(number)s", number=r["round"]) for r in rounds]
        labels = names

        def cell(i, j):
            votes, name = rounds[j].get("votes", {}), names[i]
            shown = number(votes[name]) if name in votes else "—"
            return f"{shown} ({_('eliminated')})" if name in rounds[j].get("eliminated", []) else shown
    else:
        scores = tally.get("scores", {})
        caption, columns, labels = _("Score of each city"), [_("Score")], names

        def cell(i, j):
            return number(scores.get(names[i], 0))
    row_pages, column_pages = max(1, -(-len(labels) // size)), max(1, -(-len(columns) // size))
    row_page, column_page = min(max(row_page, 1), row_pages), min(max(column_page, 1), column_pages)
    row_range = range((row_page - 1) * size, min(row_page * size, len(labels)))
    column_range = range((column_page - 1) * size, min(column_page * size, len(columns)))
    return CountBlock(
        caption=caption, columns=[columns[j] for j in column_range],
        rows=[(labels[i], [cell(i, j) for j in column_range]) for i in row_range],
        row_page=row_page, row_pages=row_pages, column_page=column_page, column_pages=column_pages,
        row_span=(row_range.start + 1, row_range.stop, len(labels)),
        column_span=(column_range.start + 1, column_range.stop, len(columns)))
