"""How the vote went, drawn on the server as SVG from the tally engine's JSON.

Standard library only: the input is :meth:`capital.voting.Result.to_dict` as stored in
``Result.tally``; the caller passes the words (already translated) and a number formatter
for the reader's locale. The SVG uses presentation attributes, never ``style``, so the
strict Content-Security-Policy lets it render; it carries a ``<title>`` and ``<desc>`` and
the page gives the same figures as a table for screen readers.

- instant-runoff: one group of horizontal bars per round (votes per continuing city);
- Schulze and ranked pairs: the head-to-head of the count's first city against the next ones
  of the ranking (ballots preferring each of the two);
- Borda and plurality: one horizontal bar per city (its score).

A chart stays the same size whatever the number of nominations: at most ``CHART_ROWS`` cities
per group and ``CHART_ROUNDS`` rounds (the first and the last ones), the rest said in a line;
the page's table and the published tally hold every figure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

PAIRWISE_METHODS = frozenset({"schulze", "ranked_pairs"})
SCORE_METHODS = frozenset({"borda", "plurality"})

# Colours with at least 4.5:1 contrast against white for text, 3:1 for shapes (WCAG 2.2).
INK = "#1d2733"
BAR = "#1f5fa8"
WINNER = "#1b6e3a"
OUT = "#6b7480"

ROW = 28  # height of one bar row
CHART_ROWS = 12  # cities drawn in a group at most
CHART_ROUNDS = 4  # rounds drawn at most: the first, and the last ones
BAR_WIDTH = 240  # the longest bar: the chart stays legible when a phone scales it down
FONT = 14


@dataclass(frozen=True)
class ChartWords:
    """The translated words a chart needs."""

    title: str
    description: str
    round_label: Callable[[int], str] = lambda number: f"Round {number}"
    eliminated: str = "eliminated"
    more: Callable[[int], str] = lambda count: f"and {count} more"
    versus: Callable[[str, str], str] = lambda first, other: f"{first} / {other}"


def chart_kind(tally: Mapping[str, Any]) -> str:
    """``rounds``, ``matrix`` or ``scores``: how this tally is best drawn."""
    method = tally.get("method")
    if method == "irv":
        return "rounds"
    if method in PAIRWISE_METHODS:
        return "matrix"
    if method in SCORE_METHODS:
        return "scores"
    raise ValueError(f"no chart for method {method!r}")


def chart_svg(tally: Mapping[str, Any], words: ChartWords, *, number: Callable[[Any], str] = str,
              chart_id: str = "chart") -> str:
    """The SVG document (an ``<svg>`` element) drawing ``tally``."""
    kind = chart_kind(tally)
    if kind == "rounds":
        body, width, height = _rounds(tally, words, number)
    elif kind == "matrix":
        body, width, height = _head_to_head(tally, words, number)
    else:
        body, width, height = _scores(tally, words, number)
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" id="{escape(chart_id)}" '
        f'aria-labelledby="{title_id} {desc_id}" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" preserveAspectRatio="xMinYMin meet" direction="ltr" font-family="sans-serif" '
        f'font-size="{FONT}" fill="{INK}">'
        f'<title id="{title_id}">{escape(words.title)}</title><desc id="{desc_id}">{escape(words.description)}</desc>'
        f"{body}</svg>"
    )


def _label_width(names) -> int:
    # Without font metrics, a generous average advance keeps long names inside the viewBox.
    return min(260, max([60] + [int(len(name) * FONT * 0.62) + 16 for name in names]))


def _bars(rows: list[tuple[str, float, str, str]], top: int, label_w: int, bar_w: int,
          maximum: float) -> list[str]:
    """Rows of (label, value, shown value, colour) as bars starting at ``top``."""
    parts = []
    for i, (label, value, shown, colour) in enumerate(rows):
        y = top + i * ROW
        # A city with any vote gets a visible bar, however short.
        length = max(1, round(bar_w * value / maximum)) if value > 0 and maximum > 0 else 0
        parts.append(f'<text x="{label_w - 8}" y="{y + 18}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{length}" height="{ROW - 8}" fill="{colour}"/>')
        parts.append(f'<text x="{label_w + length + 6}" y="{y + 18}">{escape(shown)}</text>')
    return parts


def _more(words: ChartWords, hidden: int, y: int) -> str:
    return f'<text x="0" y="{y + 18}" fill="{OUT}">{escape(words.more(hidden))}</text>' if hidden > 0 else ""


def shown_rounds(rounds: list) -> list:
    """The rounds a chart or the year page's table shows: all, or the first and the last ones."""
    if len(rounds) <= CHART_ROUNDS:
        return list(rounds)
    return [rounds[0], *rounds[-(CHART_ROUNDS - 1):]]


def _rounds(tally, words: ChartWords, number) -> tuple[str, int, int]:
    rounds = shown_rounds(tally.get("rounds", []))
    names = list(tally.get("candidates", []))
    label_w, bar_w = _label_width(names + [words.eliminated]), BAR_WIDTH
    maximum = max([0] + [v for r in rounds for v in r.get("votes", {}).values()])
    parts: list[str] = []
    y = 0
    for r in rounds:
        parts.append(f'<text x="0" y="{y + 18}" font-weight="bold">{escape(words.round_label(r["round"]))}</text>')
        y += ROW
        eliminated = set(r.get("eliminated", []))
        rows = []
        ordered = sorted(r.get("votes", {}).items(), key=lambda item: (-item[1], names.index(item[0])
                                                                         if item[0] in names else 0))
        for name, votes in ordered[:CHART_ROWS]:
            colour = WINNER if r.get("elected") == name else OUT if name in eliminated else BAR
            shown = number(votes) + (f" ({words.eliminated})" if name in eliminated else "")
            rows.append((name, votes, shown, colour))
        parts.extend(_bars(rows, y, label_w, bar_w, maximum))
        y += len(rows) * ROW
        if len(ordered) > CHART_ROWS:
            parts.append(_more(words, len(ordered) - CHART_ROWS, y))
            y += ROW
        y += ROW // 2
    return "".join(parts), label_w + bar_w + 140, max(y, ROW)


def _scores(tally, words: ChartWords, number) -> tuple[str, int, int]:
    scores = tally.get("scores", {})
    order = [name for group in tally.get("ranking", []) for name in group]
    order += [name for name in scores if name not in order]
    label_w, bar_w = _label_width(order[:CHART_ROWS]), BAR_WIDTH
    maximum = max([0] + list(scores.values()))
    rows = [(name, scores.get(name, 0), number(scores.get(name, 0)),
             WINNER if name == tally.get("winner") else BAR) for name in order[:CHART_ROWS]]
    parts = _bars(rows, 0, label_w, bar_w, maximum)
    height = len(rows) * ROW
    if len(order) > CHART_ROWS:
        parts.append(_more(words, len(order) - CHART_ROWS, height))
        height += ROW
    return "".join(parts), label_w + bar_w + 90, max(height, ROW)


def head_to_head(tally: Mapping[str, Any]) -> tuple[str | None, list[tuple[str, Any, Any]]]:
    """The count's first city (the winner, else the first of the ranking) and, for each other city
    in ranking order, (its name, ballots preferring the first city to it, ballots preferring it)."""
    names, matrix = list(tally.get("candidates", [])), tally.get("matrix", [])
    top = tally.get("winner") or next((name for group in tally.get("ranking", []) for name in group), None)
    if top not in names or not matrix:
        return None, []
    i = names.index(top)
    order = [name for group in tally.get("ranking", []) for name in group if name != top]
    order += [name for name in names if name != top and name not in order]
    return top, [(other, matrix[i][names.index(other)], matrix[names.index(other)][i]) for other in order]


def _head_to_head(tally, words: ChartWords, number) -> tuple[str, int, int]:
    top, pairs = head_to_head(tally)
    if top is None:
        return "", BAR_WIDTH, ROW
    shown = pairs[:CHART_ROWS]
    label_w, bar_w = _label_width([top, *(other for other, _, _ in shown)]), BAR_WIDTH
    maximum = max([0] + [value for _, mine, theirs in shown for value in (mine, theirs)])
    parts, y = [], 0
    for other, mine, theirs in shown:
        parts.append(f'<text x="0" y="{y + 18}" font-weight="bold">{escape(words.versus(top, other))}</text>')
        y += ROW
        parts.extend(_bars([(top, mine, number(mine), WINNER if mine > theirs else BAR),
                            (other, theirs, number(theirs), OUT)], y, label_w, bar_w, maximum))
        y += 2 * ROW + ROW // 4
    if len(pairs) > CHART_ROWS:
        parts.append(_more(words, len(pairs) - CHART_ROWS, y))
        y += ROW
    return "".join(parts), label_w + bar_w + 90, max(y, ROW)
