"""The year page: the capital and its programme, the nominees, how the vote went, receipts."""

import re

import pytest

from capital.domain.phase import Phase
from capital.public import clock
from tests.public_data import AFTER, BEFORE, RECEIPT, make_counted_cycle


@pytest.fixture
def at(monkeypatch):
    """Set the moment the public site's requests see."""
    def set_time(moment):
        monkeypatch.setattr(clock, "now", lambda: moment)
    return set_time


def page(client, url, locale="en"):
    response = client.get(url, headers={"Accept-Language": locale})
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


@pytest.mark.parametrize("method", ["irv", "schulze", "ranked_pairs", "borda", "plurality"])
def test_after_the_announcement_the_page_shows_the_capital_and_the_count(client, db, make_city, at, method):
    make_counted_cycle(db, make_city, method=method)
    at(AFTER)
    html = page(client, "/2031")
    assert '<p class="capital-name"><bdi>Palermo</bdi></p>' in html
    assert "Concert in Palermo at noon." in html
    assert "<svg" in html and 'role="img"' in html and "<title id=\"chart-2031-1-title\">" in html
    assert "Palermo won the count." in html
    assert "5 ballots of 7 board members (71%)" in html
    assert "Quorum</dt><dd>met" in html
    # The tie-break order as drawn, and the data table for screen readers.
    assert re.search(r"Tie-break order</dt><dd><ol[^>]*><li>Palermo</li><li>Tunis</li><li>Venlo</li>", html)
    assert "<caption>" in html
    assert f"--method {method} --json" in html


def test_instant_runoff_is_told_count_by_count(client, db, make_city, at):
    make_counted_cycle(db, make_city, method="irv")
    at(AFTER)
    html = page(client, "/2031")
    assert "Count 1: Palermo 2, Tunis 2, Venlo 1." in html
    assert "Venlo eliminated." in html
    assert "Count 2: Palermo 3, Tunis 2." in html
    # The table: one row per city, one column per count.
    assert re.search(r'<th scope="row">Venlo</th><td>1 \(eliminated\)</td><td>—</td>', html)


def test_a_pairwise_count_shows_the_winner_against_each_city_and_the_whole_matrix_on_the_vote_page(
        client, db, make_city, at):
    make_counted_cycle(db, make_city, method="schulze")
    at(AFTER)
    html = page(client, "/2031")
    assert "Palermo was preferred to Tunis on 3 ballots, the reverse on 2." in html
    assert re.search(r'<th scope="row">Tunis</th><td>3</td><td>2</td>', html)
    assert '<th scope="row">1. Palermo' not in html  # no whole matrix on the year page
    assert 'href="/vote/2031#count"' in html
    vote = page(client, "/vote/2031")
    assert re.search(r'<th scope="row">1\. Palermo</th><td>—</td><td>3</td><td>3</td>', vote)


def test_the_programme_comes_in_the_reader_language_when_the_city_wrote_it(client, db, make_city, at):
    make_counted_cycle(db, make_city)
    at(AFTER)
    assert "Concert à Palermo à midi." in page(client, "/2031", "fr")
    german = page(client, "/2031", "de")
    assert "Concert in Palermo at noon." in german  # no German text: the English one, said so
    assert "Die Stadt hat ihr Programm auf Englisch verfasst." in german


def test_city_names_in_their_own_script_beside_the_latin_name(client, db, make_city, at):
    make_counted_cycle(db, make_city)
    at(AFTER)
    assert "<bdi>تونس</bdi> <span class=\"latin\">(<bdi>Tunis</bdi>)</span>" in page(client, "/2031", "ar")


def look_up(client, receipt, year=2031):
    response = client.post(f"/{year}/receipt", data={"receipt": receipt}, headers={"Accept-Language": "en"})
    assert response.status_code == 200, response.status_code
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True)


def test_a_voter_finds_their_ballot_by_receipt(client, db, make_city, at):
    make_counted_cycle(db, make_city)
    at(AFTER)
    form = page(client, "/2031")
    assert '<form method="post" action="/2031/receipt#receipt"' in form and 'name="receipt"' in form
    html = look_up(client, RECEIPT.lower().replace("-", " "))
    assert f"The ballot with receipt {RECEIPT} was counted in round 1 as:" in html
    assert "<li>Tunis</li><li>Venlo = Palermo (ranked equal)</li>" in html
    # The code in the address finds nothing: it must never be sent there.
    assert "was counted" not in page(client, f"/2031?receipt={RECEIPT}")


def test_a_shortlist_receipt_is_said_to_be_of_the_shortlist_vote_not_of_a_round_0(client, db, make_city, at):
    import hashlib

    from capital.models import Ballot, Nomination, Result, VotingRound
    from capital.voting import tally

    cycle = make_counted_cycle(db, make_city)
    ids = {n.host_city.name_latin: n.id for n in db.session.query(Nomination).filter_by(cycle_id=cycle.id)}
    names = ["Palermo", "Tunis", "Venlo"]
    shortlist = VotingRound(cycle_id=cycle.id, number=0, is_shortlist=True, opens_dt=cycle.nominations_close_dt,
                            closes_dt=cycle.voting_open_dt, closed_dt=cycle.voting_open_dt,
                            tie_break_order=[ids[name] for name in names])
    db.session.add(shortlist)
    db.session.flush()
    code = "SHO1-0000-0000-0006"
    db.session.add(Ballot(round_id=shortlist.id, receipt_code=code, ranking=[[ids["Tunis"], ids["Palermo"]]]))
    text = f"Tunis = Palermo # {code}\n"
    data = tally(text, method="approval", candidates=names, tie_break=names).to_dict()
    data["candidate_ids"] = [ids[name] for name in data["candidates"]]
    db.session.add(Result(round_id=shortlist.id, method="approval", tally=data, eligible_voters=7, ballots_cast=1,
                          is_quorum_met=True, ballot_file=text, checksum=hashlib.sha256(text.encode()).hexdigest(),
                          tallied_dt=cycle.voting_open_dt))
    db.session.commit()
    at(AFTER)
    html = look_up(client, code)
    assert f"The ballot with receipt {code} was counted in the shortlist vote, approving:" in html
    assert "<ul><li>Tunis</li><li>Palermo</li></ul>" in html and "Not approved: Venlo" in html
    assert "round 0" not in html and "ranked equal" not in html
    # A receipt of the final vote still says its round.
    assert f"The ballot with receipt {RECEIPT} was counted in round 1 as:" in look_up(client, RECEIPT)


def test_an_unknown_receipt_is_said_at_the_field_and_kept(client, db, make_city, at):
    make_counted_cycle(db, make_city)
    at(AFTER)
    html = look_up(client, "NOPE-0000")
    assert 'value="NOPE-0000"' in html and 'aria-invalid="true"' in html
    assert "No counted ballot carries this receipt code." in html


def test_no_log_line_of_a_receipt_lookup_holds_the_code(app, db, make_city, at, caplog):
    """Served as ``flask capital serve`` serves it (werkzeug, whose request log is on by default), a
    browser's lookup leaves the code in no log line: the request line holds only the path."""
    import logging
    import threading
    import urllib.request
    from urllib.parse import urlencode

    from werkzeug.serving import make_server

    make_counted_cycle(db, make_city)
    at(AFTER)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.DEBUG):
            request = urllib.request.Request(f"http://127.0.0.1:{server.server_port}/2031/receipt",
                                             data=urlencode({"receipt": RECEIPT}).encode(), method="POST",
                                             headers={"Accept-Language": "en"})
            with urllib.request.urlopen(request, timeout=10) as response:  # nosec B310: the test's own server
                html = response.read().decode()
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
    assert f"The ballot with receipt {RECEIPT} was counted" in html
    lines = [record.getMessage() for record in caplog.records]
    assert any("POST /2031/receipt" in line for line in lines)  # the request log was captured
    assert not [line for line in lines if RECEIPT in line or RECEIPT.replace("-", "") in line]


def test_before_the_announcement_time_nothing_of_the_result_shows(client, db, make_city, at):
    # Announced by hand early: the embargo still holds until the announcement time.
    make_counted_cycle(db, make_city)
    at(BEFORE)
    html = page(client, "/2031")
    for leak in ("capital-name", "<svg", "won the count", "Concert in Palermo", "Check your ballot", "Turnout"):
        assert leak not in html
    assert "was counted" not in look_up(client, RECEIPT)
    # The nominees are public since nominations closed.
    assert "Palermo celebrates living together" in html


def test_a_tallied_cycle_shows_no_result_even_after_its_announcement_time(client, db, make_city, at):
    make_counted_cycle(db, make_city, phase=Phase.TALLIED)
    at(AFTER)
    html = page(client, "/2031")
    assert "<svg" not in html and "won the count" not in html and "Check your ballot" not in html


def test_a_year_without_a_cycle_is_not_found(client):
    assert client.get("/1990").status_code == 404


def test_a_biennial_capital_has_a_page_for_both_years(client, db, make_city, at):
    cycle = make_counted_cycle(db, make_city)
    cycle.is_biennial = True
    db.session.commit()
    at(AFTER)
    assert "Capital of Living Together 2032" in page(client, "/2032")
    assert "<bdi>Palermo</bdi>" in page(client, "/2032")


def test_a_vote_without_capital_is_published_from_the_announcement_time(client, db, make_city, at):
    cycle = make_counted_cycle(db, make_city, phase=Phase.NO_CAPITAL)
    cycle.capital_city_id = None
    db.session.commit()
    at(BEFORE)
    assert "<svg" not in page(client, "/2031")
    at(AFTER)
    html = page(client, "/2031")
    assert "No capital designated" in html and "<svg" in html and 'class="capital-name"' not in html
    assert "not been announced" not in html
