"""The year page and the vote page link each other; the audit files only once announced."""

import pytest

from capital.domain.phase import Phase
from capital.public import clock
from tests.public_data import AFTER, BEFORE, make_counted_cycle

FILES = ("ballots.txt", "tally.json", "SHA256SUMS")


@pytest.fixture
def at(monkeypatch):
    def set_time(moment):
        monkeypatch.setattr(clock, "now", lambda: moment)
    return set_time


def test_the_year_page_links_the_audit_files_once_announced(client, db, make_city, at):
    make_counted_cycle(db, make_city)
    at(BEFORE)
    before = client.get("/2031").get_data(as_text=True)
    assert not any(f"/vote/2031/{name}" in before for name in FILES)
    at(AFTER)
    html = client.get("/2031").get_data(as_text=True)
    for name in FILES:
        assert f'href="/vote/2031/{name}"' in html
        assert client.get(f"/vote/2031/{name}").status_code == 200
    assert 'href="/vote/2031"' in html
    assert 'href="/2031"' in client.get("/vote/2031").get_data(as_text=True)


def test_a_tallied_cycle_links_no_audit_file(client, db, make_city, at):
    make_counted_cycle(db, make_city, phase=Phase.TALLIED)
    at(AFTER)
    html = client.get("/2031").get_data(as_text=True)
    assert not any(f"/vote/2031/{name}" in html for name in FILES)
    assert client.get("/vote/2031/tally.json").status_code == 404


def test_the_vote_page_and_its_files_wait_for_the_announcement_time(client, db, make_city, at):
    make_counted_cycle(db, make_city)  # announced by hand ahead of its announcement time
    at(BEFORE)
    html = client.get("/vote/2031").get_data(as_text=True)
    assert "Check the count yourself" not in html and "/vote/2031/tally.json" not in html
    assert client.get("/vote/2031/tally.json").status_code == 404
    at(AFTER)
    assert "/vote/2031/tally.json" in client.get("/vote/2031").get_data(as_text=True)
    assert client.get("/vote/2031/tally.json").status_code == 200
