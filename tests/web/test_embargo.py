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

PLAUSIBLE = {"year": ["2031", "2032"], "name": ["announced", "tallied", "ballots.txt", "tally.json", "SHA256SUMS", "help"],
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
