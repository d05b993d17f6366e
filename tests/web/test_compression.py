"""Text answers are compressed, brotli when asked for, else gzip; each encoding decodes to the same page,
with its own ETag and ``Vary: Accept-Encoding``; cached pages are compressed once, when rendered."""

from __future__ import annotations

import gzip

import brotli
import pytest

from capital.public import cache, clock
from tests.public_data import AFTER, make_counted_cycle

DECODE = {None: lambda body: body, "gzip": gzip.decompress, "br": brotli.decompress}
ASKED = [("identity", None), ("gzip, deflate", "gzip"), ("gzip, br", "br"), ("br;q=0.5, gzip", "gzip"),
         ("*", "br"), ("br;q=0, gzip;q=0", None)]


@pytest.fixture
def counted(db, make_city, monkeypatch):
    make_counted_cycle(db, make_city)
    monkeypatch.setattr(clock, "now", lambda: AFTER)


def _get(client, url, accept_encoding, **headers):
    return client.get(url, headers={"Accept-Language": "en", "Accept-Encoding": accept_encoding, **headers})


def _decoded(response) -> bytes:
    return DECODE[response.headers.get("Content-Encoding")](response.get_data())


@pytest.mark.parametrize("url", ["/2031", "/", "/archive", "/feed.atom", "/calendar.ics"])
def test_a_first_time_reader_gets_the_cached_page_in_the_encoding_asked_for(app, counted, url):
    reader = app.test_client(use_cookies=False)  # no cookie: the page comes from the front cache
    assert _get(reader, url, "identity").headers["X-Page-Cache"] == "miss"
    answers = {}
    for asked, encoding in ASKED:
        response = _get(reader, url, asked)
        assert response.status_code == 200 and response.headers["X-Page-Cache"] == "hit"
        assert response.headers.get("Content-Encoding") == encoding, asked
        assert "Accept-Encoding" in response.headers["Vary"] and "Accept-Language" in response.headers["Vary"]
        assert int(response.headers["Content-Length"]) == len(response.get_data())
        answers[encoding] = response
    assert len({_decoded(response) for response in answers.values()}) == 1  # the same page whatever the encoding
    assert len(answers["br"].get_data()) < len(answers["gzip"].get_data()) < len(answers[None].get_data())
    etags = {encoding: response.headers["ETag"] for encoding, response in answers.items()}
    assert len(set(etags.values())) == 3 and etags["br"] == etags[None][:-1] + ':br"'
    # A cache holding the brotli page revalidates it; its ETag is not the gzip page's.
    assert _get(reader, url, "br", **{"If-None-Match": etags["br"]}).status_code == 304
    assert _get(reader, url, "gzip", **{"If-None-Match": etags["br"]}).status_code == 200


def test_the_page_is_compressed_once_when_rendered_not_at_each_request(app, counted, monkeypatch):
    reader = app.test_client(use_cookies=False)
    _get(reader, "/2031", "br")
    calls = []
    monkeypatch.setattr(cache.brotli, "compress", lambda *args, **kwargs: calls.append(1) or b"")
    for _ in range(5):
        assert _get(reader, "/2031", "br").headers["X-Page-Cache"] == "hit"
    assert calls == []


def test_a_reader_with_a_session_gets_their_own_page_compressed_on_the_way_out(client, counted):
    client.get("/about/help")  # a session: pages carry this reader's own CSRF token
    plain, squeezed = _get(client, "/2031", "identity"), _get(client, "/2031", "br")
    assert squeezed.headers["Content-Encoding"] == "br" and "Accept-Encoding" in squeezed.headers["Vary"]
    assert _decoded(squeezed) == plain.get_data()
    assert squeezed.headers["ETag"] != plain.headers["ETag"]


@pytest.mark.parametrize("url,mimetype", [("/api/v1/openapi.json", "application/json"), ("/vote/2031", "text/html"),
                                          ("/vote/2031/tally.json", "application/json")])
def test_other_text_answers_are_compressed_too(client, counted, url, mimetype):
    plain, squeezed = _get(client, url, "identity"), _get(client, url, "gzip, br")
    assert squeezed.mimetype == plain.mimetype == mimetype
    assert squeezed.headers["Content-Encoding"] == "br" and "Accept-Encoding" in squeezed.headers["Vary"]
    assert _decoded(squeezed) == plain.get_data()
