"""How the vote went, drawn on the server as SVG from the tally engine's JSON.

Standard library only: the input is :meth:`capital.voting.Result.to_dict` as stored in
``Result.tally``; the caller passes the words (already translated) and a number formatter
for the reader's locale. The SVG uses presentation attributes, never ``style``, so the
strict Content-Security-Policy lets it render; it carries a ``<title>`` and ``<desc>`` and
the page gives the same figures as a table for screen readers.

- instant-runoff: one group of horizontal bars per round (votes per continuing city);
- Schulze and ranked pairs: the pairwise matrix, row city preferred to column city;
- Borda and plurality: one horizontal bar per city (its score).
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
WIN_CELL = "#d7ecdc"
LOSS_CELL = "#f3f4f6"
LINE = "#c5cbd3"

ROW = 28  # height of one bar row
BAR_WIDTH = 240  # the longest bar: the chart stays legible when a phone scales it down
FONT = 14


@dataclass(frozen=True)
class ChartWords:
    """The translated words a chart needs."""

    title: str
    description: str
    round_label: Callable[[int], str] = lambda number: f"Round {number}"
    eliminated: str = "eliminated"


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
        body, width, height = _matrix(tally, number)
    else:
        body, width, height = _scores(tally, number)
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


def _rounds(tally, words: ChartWords, number) -> tuple[str, int, int]:
    rounds = tally.get("rounds", [])
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
        for name, votes in sorted(r.get("votes", {}).items(), key=lambda item: (-item[1], names.index(item[0])
                                                                                  if item[0] in names else 0)):
            colour = WINNER if r.get("elected") == name else OUT if name in eliminated else BAR
            shown = number(votes) + (f" ({words.eliminated})" if name in eliminated else "")
            rows.append((name, votes, shown, colour))
        parts.extend(_bars(rows, y, label_w, bar_w, maximum))
        y += len(rows) * ROW + ROW // 2
    return "".join(parts), label_w + bar_w + 140, max(y, ROW)


def _scores(tally, number) -> tuple[str, int, int]:
    scores = tally.get("scores", {})
    order = [name for group in tally.get("ranking", []) for name in group]
    order += [name for name in scores if name not in order]
    label_w, bar_w = _label_width(order), BAR_WIDTH
    maximum = max([0] + list(scores.values()))
    rows = [(name, scores.get(name, 0), number(scores.get(name, 0)),
             WINNER if name == tally.get("winner") else BAR) for name in order]
    return "".join(_bars(rows, 0, label_w, bar_w, maximum)), label_w + bar_w + 90, max(len(rows) * ROW, ROW)


def _matrix(tally, number) -> tuple[str, int, int]:
    names = list(tally.get("candidates", []))
    matrix = tally.get("matrix", [])
    # Rows and columns numbered; the row labels name the cities (long names fit no column head).
    labels = [f"{i + 1}. {name}" for i, name in enumerate(names)]
    label_w, cell = _label_width(labels), 48
    parts = []
    for j in range(len(names)):
        parts.append(f'<text x="{label_w + j * cell + cell // 2}" y="{ROW - 8}" text-anchor="middle" '
                     f'font-weight="bold">{j + 1}</text>')
    for i, label in enumerate(labels):
        y = ROW + i * cell
        parts.append(f'<text x="{label_w - 8}" y="{y + cell // 2 + 5}" text-anchor="end">{escape(label)}</text>')
        for j in range(len(names)):
            x = label_w + j * cell
            if i == j:
                parts.append(f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="#ffffff" stroke="{LINE}"/>'
                             f'<text x="{x + cell // 2}" y="{y + cell // 2 + 5}" text-anchor="middle">—</text>')
                continue
            wins = matrix[i][j] > matrix[j][i]
            parts.append(f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" '
                         f'fill="{WIN_CELL if wins else LOSS_CELL}" stroke="{LINE}"/>')
            weight = ' font-weight="bold"' if wins else ""
            parts.append(f'<text x="{x + cell // 2}" y="{y + cell // 2 + 5}" text-anchor="middle"{weight}>'
                         f'{escape(number(matrix[i][j]))}</text>')
    return "".join(parts), label_w + len(names) * cell + 8, ROW + len(names) * cell + 8
