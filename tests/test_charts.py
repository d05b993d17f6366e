"""The server-drawn charts: valid SVG, labelled, proportional, and allowed by the page's CSP."""

import xml.etree.ElementTree as ET

import pytest

from capital.charts import BAR_WIDTH, ChartWords, chart_kind, chart_svg
from capital.voting import tally

SVG = "{http://www.w3.org/2000/svg}"
BALLOTS = "3: Montréal > Córdoba > Venlo\n2: Córdoba > Venlo > Montréal\n2: Venlo > Montréal > Córdoba\n1: Córdoba\n"
ORDER = ["Montréal", "Córdoba", "Venlo"]


def draw(method):
    data = tally(BALLOTS, method=method, tie_break=ORDER).to_dict()
    return data, ET.fromstring(chart_svg(data, ChartWords("Title <1>", "What it shows"), chart_id="c"))


@pytest.mark.parametrize("method,kind", [("irv", "rounds"), ("schulze", "matrix"), ("ranked_pairs", "matrix"),
                                         ("borda", "scores"), ("plurality", "scores")])
def test_each_method_is_drawn_as_valid_labelled_svg(method, kind):
    data, svg = draw(method)
    assert chart_kind(data) == kind
    assert svg.get("role") == "img" and svg.get("aria-labelledby") == "c-title c-desc"
    assert svg.find(f"{SVG}title").text == "Title <1>"  # escaped in the source, intact when parsed
    assert svg.find(f"{SVG}desc").text == "What it shows"
    # The strict CSP (style-src 'self') would drop inline styles: presentation attributes only.
    assert all("style" not in element.attrib for element in svg.iter())
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert any(t and "Montréal" in t for t in texts)


def test_score_bars_are_proportional_to_the_scores():
    data, svg = draw("plurality")
    widths = [int(rect.get("width")) for rect in svg.iter(f"{SVG}rect")]
    scores = [data["scores"][name] for group in data["ranking"] for name in group]
    assert widths[0] == BAR_WIDTH and widths == [round(BAR_WIDTH * s / max(scores)) for s in scores]


def test_instant_runoff_draws_one_group_per_round_with_the_eliminated_marked():
    data, svg = draw("irv")
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert [t for t in texts if t.startswith("Round")] == [f"Round {r['round']}" for r in data["rounds"]]
    assert any(t.endswith("(eliminated)") for t in texts)


def test_a_pairwise_count_draws_the_winner_against_each_other_city():
    data, svg = draw("schulze")
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    names, matrix, winner = data["candidates"], data["matrix"], data["winner"]
    i = names.index(winner)
    for j, other in enumerate(names):
        if j != i:
            assert f"{winner} / {other}" in texts
            assert str(matrix[i][j]) in texts and str(matrix[j][i]) in texts


def test_a_chart_stays_the_same_size_whatever_the_number_of_cities():
    names = [f"City {n:03}" for n in range(200)]
    ballots = "".join(f"{' > '.join(names[n:] + names[:n])}\n" for n in range(0, 200, 7))
    sizes = {}
    for method in ("schulze", "irv", "borda"):
        data = tally(ballots, method=method, tie_break=names).to_dict()
        svg = ET.fromstring(chart_svg(data, ChartWords("t", "d"), chart_id="c"))
        texts = [t.text for t in svg.iter(f"{SVG}text")]
        sizes[method] = len(list(svg.iter(f"{SVG}rect")))
        assert any(t and t.startswith("and ") and t.endswith(" more") for t in texts), method
    assert sizes["schulze"] <= 2 * 12 and sizes["borda"] <= 12 and sizes["irv"] <= 4 * 12
