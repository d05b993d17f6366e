"""A counted round in the reader's language: the chart, the explanation in words, the table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import format_decimal, format_percent, get_locale

from capital.charts import ChartWords, chart_kind, chart_svg
from capital.i18n import _
from capital.models import Cycle, Result
from capital.secretariat.forms import METHOD_TITLES
from capital.services import public


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
                                      eliminated=_("eliminated")),
                    number=number, chart_id=f"chart-{year}-{result.round.number}")
    turnout = format_percent(result.ballots_cast / result.eligible_voters) if result.eligible_voters else "—"
    return RoundView(
        number=result.round.number, method_title=str(METHOD_TITLES.get(result.method, result.method)),
        kind=kind, svg=svg, sentences=sentences, tally=tally, eligible_voters=result.eligible_voters,
        ballots_cast=result.ballots_cast, turnout=turnout, is_quorum_met=result.is_quorum_met,
        tie_break_order=list(tally.get("tie_break") or []), checksum=result.checksum,
    )


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
        sentences.append(_("Every city is compared with every other: the table shows, for each pair, how many "
                           "ballots preferred the city of the row to the city of the column."))
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
        year=year, cycle=cycle, **shown,
        rounds=[round_view(result, year) for result in public.public_results(cycle, now)],
        nominees=public.public_nominees(cycle), nominees_public=public.nominees_are_public(cycle.phase),
        number=number, share_title=_("Capital of Living Together %(year)s", year=year),
        share_description=description,
    )
