"""The year page stays small however many nominations there are: a bounded number of pairwise cells,
and every figure of the count still published, in the page's table, in tally.json and, block by
block, on the vote page."""

from __future__ import annotations

import json
import re

from sqlalchemy import update

from capital.models import City
from capital.public import clock
from capital.voting import tally
from tests.public_data import AFTER, make_counted_cycle

NOMINATIONS = 60
BOUND = 200_000  # bytes before compression: the target at the design size, 200 nominations
ROW = re.compile(r'<tr><th scope="row">\d+\. ([^<]+)</th>((?:<td>[^<]*</td>)+)</tr>')
HEAD = re.compile(r'<th scope="col">\d+\. ([^<]+)</th>')


def _count(db, make_city) -> str:
    """A Schulze count of 60 nominations from 45 full rankings; returns its winner."""
    names = [f"Ville {n:02}" for n in range(NOMINATIONS)]
    rankings = [names[k:] + names[:k] for k in range(0, NOMINATIONS, 4)] * 3
    ballots = [(f"R{n:03}-0000-0000-{n:04}", [[name] for name in ranking]) for n, ranking in enumerate(rankings)]
    text = "".join(" > ".join(name for [name] in ranking) + "\n" for _, ranking in ballots)
    winner = tally(text, method="schulze", candidates=names, tie_break=names).winner
    make_counted_cycle(db, make_city, method="schulze", hosts=[(n, n, "FR", "Europe/Paris") for n in names],
                       ballots=ballots, winner=winner, eligible_voters=len(ballots))
    return winner


def test_at_60_nominations_the_year_page_stays_small_and_every_figure_is_still_published(
        client, db, make_city, monkeypatch):
    winner = _count(db, make_city)
    # Every city has its place, so the page also carries the capital's map, as a real one would.
    db.session.execute(update(City).values(latitude=45.76, longitude=4.83))
    db.session.commit()
    monkeypatch.setattr(clock, "now", lambda: AFTER)
    page = client.get("/2031", headers={"Accept-Encoding": "identity"}).get_data()
    assert len(page) < BOUND
    html = page.decode()
    assert 'class="capital-map"' in html
    data = json.loads(client.get("/vote/2031/tally.json").get_data())
    names, matrix = data["candidates"], data["matrix"]
    assert len(names) == NOMINATIONS
    # On the page: the winner against each other city (2 × 59 figures), not the 60 × 59 of the matrix.
    i = names.index(winner)
    for j, other in enumerate(names):
        if j != i:
            assert f'<th scope="row">{other}</th><td>{matrix[i][j]}</td><td>{matrix[j][i]}</td>' in html, other
    assert html.count("<td>") <= 2 * (NOMINATIONS - 1) + 10
    chart = re.sub(r'<figure class="capital-map">.*?</figure>', "", html, flags=re.S)
    assert chart.count("<rect") <= 2 * 12  # the chart: the winner against the first twelve others
    # On the vote page, block by block, the whole matrix, every figure where tally.json has it.
    seen: dict[tuple[str, str], str] = {}
    for rows in range(1, 4):
        for columns in range(1, 4):
            block = client.get(f"/vote/2031?rows={rows}&columns={columns}").get_data(as_text=True)
            heads = HEAD.findall(block)
            for row, cells in ROW.findall(block):
                for column, value in zip(heads, re.findall(r"<td>([^<]*)</td>", cells), strict=True):
                    seen[row, column] = value
    assert len(seen) == NOMINATIONS * NOMINATIONS
    for a, row in enumerate(names):
        for b, column in enumerate(names):
            assert seen[row, column] == ("—" if a == b else str(matrix[a][b]))
