"""Before its announcement time nothing of a cycle's result is public, whatever URL is tried.

The walk covers every GET route of the app (from ``app.url_map``, so routes added later are
walked too) with plausible parameters, as an anonymous visitor, before and after the
announcement time of a cycle announced by hand ahead of it.
"""

import itertools
from urllib.parse import quote

import pytest
from sqlalchemy import select

from capital.domain.localisation import LOCALES
from capital.models import Result
from capital.public import clock
from tests.public_data import AFTER, BALLOTS, BEFORE, WINNER, add_report, make_counted_cycle

PLAUSIBLE = {"year": ["2031", "2032", "2033"],
             "name": ["announced", "tallied", "ballots.txt", "tally.json", "SHA256SUMS", "shortlist-ballots.txt",
                      "shortlist-tally.json", "help"],
             "token": ["x"],
             "filename": ["capital.css"], "page": ["1"]}
QUERIES = ["", "?receipt=" + quote(BALLOTS[0][0].lower().replace("-", " ")), "?page=1&per_page=100"]


def public_urls(app):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        # A fixed set of names (``<any(…)>``) is walked whole; other arguments get plausible values.
        choices = [sorted(items) if (items := getattr(rule._converters[arg], "items", None))
                   else PLAUSIBLE.get(arg, ["1", "2", "3"]) for arg in sorted(rule.arguments)]
        for values in itertools.product(*choices):
            try:
                path = rule.build(dict(zip(sorted(rule.arguments), values)), append_unknown=False)[1]
            except ValueError:  # a value the rule's converter does not take (e.g. another route's name)
                continue
            for query in QUERIES:
                yield path + query


REPORT_MARKER = "Palermo opened its squares"


def result_markers(db):
    """What only the result reveals: receipts, the ballot file's checksum, the winner as winner, the jury report."""
    checksum = db.session.scalar(select(Result.checksum))
    return [code for code, _ in BALLOTS] + [checksum, f"{WINNER} won the count", f"{WINNER} is the Capital",
                                           f'"winner": "{WINNER}"', f'"winner":"{WINNER}"', 'class="capital-name"',
                                           REPORT_MARKER, "Tunis brought its neighbourhoods together"]


# Files whose bytes are no text to search: the share picture, the record. Each is answered only once public.
BINARY = ("image/png", "application/pdf")


def walk(client, app, binaries=None):
    """Every page's text by URL; the URLs answered with a picture or a PDF go to ``binaries``."""
    pages = {}
    for url in public_urls(app):
        response = client.get(url, headers={"Accept-Language": "en"})
        assert response.status_code < 500, url
        if response.mimetype in BINARY:
            assert response.status_code == 200, url
            if binaries is not None:
                binaries.append(url)
            continue
        pages[url] = response.get_data(as_text=True)
    return pages


@pytest.mark.timeout(600)
def test_no_public_route_reveals_the_result_before_the_announcement_time(app, client, db, make_city, monkeypatch):
    add_report(db, make_counted_cycle(db, make_city))
    markers = result_markers(db)

    monkeypatch.setattr(clock, "now", lambda: BEFORE)
    binaries = []
    leaks = [(url, marker) for url, body in walk(client, app, binaries).items() for marker in markers if marker in body]
    assert leaks == [] and binaries == []

    # The same walk after the announcement time finds the result: the markers are real.
    monkeypatch.setattr(clock, "now", lambda: AFTER)
    seen = {marker for body in walk(client, app, binaries).values() for marker in markers if marker in body}
    assert {BALLOTS[0][0], f"{WINNER} won the count", 'class="capital-name"', REPORT_MARKER} <= seen
    assert {url.split("?")[0] for url in binaries} >= {
        *(f"/2031/share-{locale}.png" for locale in LOCALES), *(f"/vote/2031/record-{locale}.pdf" for locale in LOCALES)}


def make_no_capital_cycles(db, make_city):
    """Three cycles ended without a capital, one per reason, each before its announcement time of
    16 March: 2031 missed its quorum, 2032 had no eligible nomination, 2033 ended in a tie."""
    from datetime import UTC, datetime

    from capital.domain.phase import Phase
    from capital.domain.timeline import celebration_day
    from capital.models import Cycle

    quorum = make_counted_cycle(db, make_city, year=2031, phase=Phase.NO_CAPITAL)
    tie = make_counted_cycle(db, make_city, year=2033, phase=Phase.NO_CAPITAL,
                             announcement_dt=datetime(2033, 3, 16, 12, tzinfo=UTC),
                             ballots=[(code.replace("-0000-", "-2033-"), ranking) for code, ranking in BALLOTS])
    for cycle, reason in ((quorum, "quorum_missed"), (tie, "unresolved_tie")):
        cycle.capital_city_id, cycle.no_capital_reason = None, reason
        [result] = db.session.scalars(select(Result).where(Result.round_id == cycle.rounds[0].id)).all()
        result.winner_nomination_id = None
        result.is_quorum_met = reason != "quorum_missed"
    db.session.add(Cycle(year=2032, celebration_date=celebration_day(2032), phase=Phase.NO_CAPITAL,
                         no_capital_reason="no_eligible",
                         nominations_open_dt=datetime(2031, 10, 16, 12, tzinfo=UTC),
                         nominations_close_dt=datetime(2032, 1, 16, 12, tzinfo=UTC),
                         voting_open_dt=datetime(2032, 2, 16, 12, tzinfo=UTC),
                         voting_close_dt=datetime(2032, 3, 9, 12, tzinfo=UTC),
                         announcement_dt=datetime(2032, 3, 16, 12, tzinfo=UTC)))
    db.session.commit()


NO_CAPITAL_MARKERS = ["No capital designated", "No nomination was eligible.",
                      "The board did not reach its quorum in the last allowed voting round.",
                      "The count ended in a tie that could not be resolved.",
                      '"phase": "no_capital"', '"phase":"no_capital"']


@pytest.mark.timeout(600)
def test_no_public_route_reveals_that_there_is_no_capital_nor_why_before_the_announcement_time(
        app, client, db, make_city, monkeypatch):
    from datetime import UTC, datetime

    make_no_capital_cycles(db, make_city)
    monkeypatch.setattr(clock, "now", lambda: BEFORE)
    leaks = [(url, marker) for url, body in walk(client, app).items() for marker in NO_CAPITAL_MARKERS
             if marker in body]
    assert leaks == []

    # After the last announcement time every reason is public, on the vote page and in the API.
    monkeypatch.setattr(clock, "now", lambda: datetime(2033, 3, 17, tzinfo=UTC))
    pages = walk(client, app)
    seen = {marker for body in pages.values() for marker in NO_CAPITAL_MARKERS if marker in body}
    assert set(NO_CAPITAL_MARKERS[:4]) <= seen and seen & set(NO_CAPITAL_MARKERS[4:])
    assert "The board did not reach its quorum in the last allowed voting round." in pages["/vote/2031"]
    assert "No nomination was eligible." in pages["/vote/2032"]
