"""The board's ballot pages: ranking, review in words, casting, the receipt, errors at the field,
the roll, the results before and after the announcement, and the public audit files."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.models import Ballot, Cycle, Participation
from capital.models.types import utcnow
from capital.public import clock
from capital.services.cycles import change_phase
from tests.conftest import WebClient, review_sizes


def open_now(make_vote, **settings):
    """A vote opened an hour ago (the pages read the clock), by members serving now."""
    now = utcnow().replace(microsecond=0)
    vote = make_vote(terms=(now.date() - timedelta(days=400), date(2031, 12, 31)), **settings)
    vote.open(now - timedelta(hours=1))
    return vote


@pytest.fixture
def vote(make_vote):
    return open_now(make_vote)


@pytest.fixture
def member(client, vote):
    client.login(vote.members[0].email)
    return vote.members[0]


def fields(vote):
    return {f"rank_{n.id}": "" for n in vote.nominations}


def ranks(vote, **by_host):
    data = fields(vote)
    for n in vote.nominations:
        data[f"rank_{n.id}"] = by_host.get(n.host_city.name, "")
    return data


def test_the_ballot_has_a_labelled_rank_per_nomination_with_its_dossier(client, db, vote, member):
    member.timezone = "America/Toronto"
    db.session.commit()
    page = client.get("/board/vote").get_data(as_text=True)
    for n in vote.nominations:
        assert re.search(rf'<label for="rank_{n.id}">Rank for {n.host_city.name}: “{n.title}”</label>', page)
        assert (f'<input class="rank-input" type="text" inputmode="numeric" autocomplete="off" size="3" maxlength="3" '
                f'id="rank_{n.id}" name="rank_{n.id}" value="" aria-describedby="rank_{n.id}-hint">') in page
        assert f'href="/city/nominations/{n.id}"' in page
    # A number field per nomination, not n drop-downs of n + 1 options.
    ballot = page[page.index('action="/board/vote/review"'):]
    assert "<select" not in ballot and "<option" not in ballot and "A number from 1 to 3, or blank." in ballot
    assert "You have not voted yet." in page
    assert vote.cycle.rounds[0].tie_break_seed in page
    # The deadline (20 March 2031, 12:00 UTC) in the member's time zone, with its offset.
    assert "20 March 2031, 08:00" in page and "UTC-04:00" in page


def test_review_says_the_ranking_in_words_then_cast_shows_the_receipt_once(client, db, vote, member):
    page = client.post("/board/vote/review", ranks(vote, Palermo="1", Venlo="2", Lyon="2")).get_data(as_text=True)
    assert "1. Palermo 2. Venlo = Lyon" in page
    assert db.session.query(Ballot).count() == 0
    form = ranks(vote, Palermo="1", Venlo="2", Lyon="2") | {"cast": "1"}
    response = client.post("/board/vote/cast", form)
    page = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    [ballot] = db.session.scalars(select(Ballot)).all()
    assert f">{ballot.receipt_code}<" in page and "shown only once" in page
    assert ballot.voter_id is None
    assert "You have voted in this round." in client.get("/board/vote").get_data(as_text=True)
    assert "You have voted in this round." in client.get("/board/").get_data(as_text=True)
    again = client.post("/board/vote/cast", form).get_data(as_text=True)
    assert db.session.query(Ballot).count() == 1 and ballot.receipt_code not in again


def test_change_goes_back_to_the_form_with_the_ranks_kept(client, vote, member):
    palermo = vote.ids()["Palermo"]
    page = client.post("/board/vote/cast", ranks(vote, Palermo="2", Venlo="1") | {"change": "1"}).get_data(as_text=True)
    assert f'name="rank_{palermo}" value="2"' in page


@pytest.mark.parametrize(("by_host", "host", "message"), [
    ({"Palermo": "1", "Venlo": "3"}, "Venlo", "No nomination has rank 2"),
    ({"Palermo": "7"}, "Palermo", "Give a rank from 1 to 3"),
    ({}, "Lyon", "Rank at least one nomination."),
])
def test_an_invalid_ballot_is_explained_at_the_field_and_stores_nothing(client, db, vote, member, by_host, host,
                                                                        message):
    for url in ("/board/vote/review", "/board/vote/cast"):
        page = client.post(url, ranks(vote, **by_host) | {"cast": "1"}).get_data(as_text=True)
        assert 'class="error-summary"' in page and message in page
        if by_host:
            field = f"rank_{vote.ids()[host]}"
            assert f'<a href="#{field}">{message}' in page
            assert f'id="{field}" name="{field}" value="{by_host.get(host, "")}" ' \
                   f'aria-describedby="{field}-hint {field}-error" aria-invalid="true">' in page
            assert f'id="{field}-error"' in page
    assert db.session.query(Ballot).count() == db.session.query(Participation).count() == 0


def test_an_unknown_nomination_in_the_form_is_refused(client, db, vote, member):
    page = client.post("/board/vote/review", ranks(vote, Palermo="1") | {"rank_999999": "2"}).get_data(as_text=True)
    assert "The ballot names a nomination that is not on it." in page
    assert db.session.query(Ballot).count() == 0


@pytest.mark.parametrize("name", ["rank_²", "rank_٣", "rank_" + "9" * 5000, "rank_1e3", "rank_-1", "rank_", "rank_ 1"])
def test_a_crafted_rank_field_name_is_refused_at_the_form_not_a_server_error(client, db, vote, member, name):
    for url in ("/board/vote/review", "/board/vote/cast"):
        response = client.post(url, ranks(vote, Palermo="1") | {name: "1", "cast": "1"})
        page = response.get_data(as_text=True)
        assert response.status_code == 200, (url, response.status_code)
        assert 'class="error-summary"' in page and "The ballot names a nomination that is not on it." in page
    assert db.session.query(Ballot).count() == db.session.query(Participation).count() == 0


def test_the_review_page_and_its_cast_form_have_one_size_whatever_the_ranking(client, vote, member):
    words, sizes, bodies = review_sizes(client, "/board/vote/review", [ranks(vote, **by_host) for by_host in (
        {"Palermo": "1"}, {"Palermo": "1", "Venlo": "2", "Lyon": "3"}, {"Palermo": "1", "Venlo": "1"},
        {"Palermo": "1", "Venlo": "1", "Lyon": "1"}, {"Lyon": "1", "Palermo": "2", "Venlo": "2"})])
    assert len(words) == 5  # five rankings, told apart on the page…
    assert len(sizes) == 1 and len(bodies) == 1  # …but not by its size, nor by the size of the cast


def test_a_cast_empties_no_public_page(app, client, db, vote, member):
    reader = WebClient(app.test_client())
    assert reader.get("/", headers={"Accept-Language": "en"}).headers["X-Page-Cache"] == "miss"
    assert reader.get("/", headers={"Accept-Language": "en"}).headers["X-Page-Cache"] == "hit"
    response = client.post("/board/vote/cast", ranks(vote, Palermo="1") | {"cast": "1"})
    assert "shown only once" in response.get_data(as_text=True) and db.session.query(Ballot).count() == 1
    assert reader.get("/", headers={"Accept-Language": "en"}).headers["X-Page-Cache"] == "hit"
    assert WebClient(app.test_client()).get("/vote/2031").status_code == 200


def test_a_cast_without_the_csrf_token_is_refused(client, db, vote, member):
    response = client.post_raw("/board/vote/cast", data=ranks(vote, Palermo="1") | {"cast": "1"})
    assert response.status_code == 400 and db.session.query(Ballot).count() == 0


def test_ballot_posts_are_throttled_per_member_with_the_wait_and_nothing_stored(app, client, db, vote, member,
                                                                                 monkeypatch):
    monkeypatch.setitem(app.config, "CAPITAL_BALLOT_LIMIT", "3 per minute")
    form = ranks(vote, Palermo="1") | {"cast": "1"}
    statuses = [client.post("/board/vote/review", form).status_code for _ in range(3)]
    refused = client.post("/board/vote/cast", form, headers={"Accept-Language": "fr"})
    assert statuses == [200, 200, 200] and refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert re.search(r"Trop de tentatives\. Patientez \d+\s+secondes? et réessayez\.", refused.get_data(as_text=True))
    assert db.session.query(Ballot).count() == db.session.query(Participation).count() == 0
    # Another member's ballot is not held back by the first one's attempts.
    other = WebClient(app.test_client())
    other.login(vote.members[1].email)
    assert other.post("/board/vote/cast", form).status_code == 200
    assert db.session.query(Ballot).count() == db.session.query(Participation).count() == 1


def test_a_replacement_needs_the_code_from_the_receipt(client, db, make_vote):
    vote = open_now(make_vote, allows_ballot_replacement=True)
    client.login(vote.members[0].email)
    page = client.post("/board/vote/cast", ranks(vote, Palermo="1") | {"cast": "1"}).get_data(as_text=True)
    secret = re.search(r"Replacement code</h2>\s*<p class=\"code\"[^>]*>([A-Z0-9-]+)<", page).group(1)
    page = client.post("/board/vote/cast", ranks(vote, Lyon="1") | {"cast": "1"}).get_data(as_text=True)
    assert "Enter the replacement code" in page
    page = client.post("/board/vote/cast", ranks(vote, Lyon="1") | {"cast": "1", "replacement_secret": secret})
    assert "Your ballot is replaced" in page.get_data(as_text=True)
    [ballot] = db.session.scalars(select(Ballot)).all()
    assert ballot.ranking == [[vote.ids()["Lyon"]]]


def test_a_member_not_on_the_roll_cannot_vote(client, db, make_user, vote):
    newcomer = make_user(Role.BOARD)
    client.login(newcomer.email)
    assert "You are not on this round’s voter roll." in client.get("/board/vote").get_data(as_text=True)
    page = client.post("/board/vote/cast", ranks(vote, Palermo="1") | {"cast": "1"}).get_data(as_text=True)
    assert "You are not on this round" in page and db.session.query(Ballot).count() == 0


def test_a_conflict_is_declared_with_a_reason_at_the_field(client, db, make_vote):
    vote = make_vote(terms=(utcnow().date() - timedelta(days=400), date(2031, 12, 31)))
    client.login(vote.members[0].email)
    page = client.post("/board/vote/conflict", {"reason": ""}).get_data(as_text=True)
    assert "Say why you have a conflict of interest." in page and 'aria-invalid="true"' in page
    assert client.post("/board/vote/conflict", {"reason": "I advise the Lyon committee."}).status_code == 302
    round_ = vote.open(utcnow().replace(microsecond=0) - timedelta(hours=1))
    assert vote.members[0].id not in round_.roll
    secretariat = WebClient(client.app.test_client())
    secretariat.login(vote.secretariat.email)
    page = secretariat.get("/board/vote/roll").get_data(as_text=True)
    assert "I advise the Lyon committee." in page and "6 board members may vote in this round." in page


def test_roll_and_results_are_for_the_board_and_the_secretariat_only(client, make_user, vote):
    client.login(make_user(Role.REPRESENTATIVE).email)
    assert client.get("/board/vote/roll").status_code == 403
    assert client.get("/board/results").status_code == 403


def test_results_are_private_until_announced_then_the_audit_files_are_public(app, client, db, vote, member,
                                                                            monkeypatch):
    for m, host in zip(vote.members[:5], ["Palermo", "Palermo", "Venlo", "Palermo", "Lyon"], strict=True):
        voter = WebClient(app.test_client())
        voter.login(m.email)
        assert "Receipt code" in voter.post("/board/vote/cast", ranks(vote, **{host: "1"}) | {"cast": "1"}).get_data(
            as_text=True)
    assert client.get("/board/results").status_code == 404
    now = utcnow().replace(microsecond=0)
    cycle = db.session.get(Cycle, vote.cycle_id)
    change_phase(cycle, Phase.VOTING_CLOSED, actor=vote.secretariat, now=now, by_hand=True)
    change_phase(cycle, Phase.TALLIED, actor=vote.secretariat, now=now, by_hand=True)
    db.session.commit()
    page = client.get("/board/results").get_data(as_text=True)
    assert "Not public yet" in page and "<li>Palermo</li>" in page
    assert f'href="/vote/{cycle.year}"' in client.get("/").get_data(as_text=True)
    public = client.get(f"/vote/{cycle.year}").get_data(as_text=True)
    assert "Palermo</li>" in public  # the tie-break order is public ...
    assert "<dt>Board members on the roll</dt><dd>7</dd>" in public and cycle.rounds[0].tie_break_seed in public
    assert "Check the count yourself" not in public and client.get(f"/vote/{cycle.year}/ballots.txt").status_code == 404
    secretariat = WebClient(app.test_client())
    secretariat.login(vote.secretariat.email)
    assert "Announce the result" in secretariat.get("/board/results").get_data(as_text=True)
    history = secretariat.get(f"/secretariat/cycles/{cycle.id}").get_data(as_text=True)
    assert history.count("Board member voted") == 5 and 'href="/board/results"' in history
    assert secretariat.post(f"/secretariat/cycles/{cycle.id}/phase/announced").status_code == 302
    # Announced by hand ahead of the planned time: the announcement time moves to that moment.
    assert db.session.get(Cycle, vote.cycle_id).announcement_dt <= utcnow()
    public = client.get(f"/vote/{cycle.year}").get_data(as_text=True)
    assert "Check the count yourself" in public
    files = {name: client.get(f"/vote/{cycle.year}/{name}").get_data() for name in
             ("ballots.txt", "tally.json", "SHA256SUMS")}
    for line in files["SHA256SUMS"].decode().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256(files[name]).hexdigest() == digest
    assert files["ballots.txt"].decode().count("\nPalermo # ") == 3
    db.session.expire_all()
    assert db.session.get(Cycle, vote.cycle_id).capital_city_id == vote.cities["Palermo"].id


def test_the_secretariat_designates_the_runner_up_with_a_public_reason(app, client, db, vote, member, monkeypatch):
    for m, host in zip(vote.members[:4], ["Palermo", "Palermo", "Venlo", "Palermo"], strict=True):
        voter = WebClient(app.test_client())
        voter.login(m.email)
        voter.post("/board/vote/cast", ranks(vote, **{host: "1", "Venlo" if host == "Palermo" else "Palermo": "2"})
                   | {"cast": "1"})
    now = utcnow().replace(microsecond=0)
    cycle = db.session.get(Cycle, vote.cycle_id)
    for phase in (Phase.VOTING_CLOSED, Phase.TALLIED, Phase.ANNOUNCED):
        change_phase(cycle, phase, actor=vote.secretariat, now=now, by_hand=True)
    db.session.commit()
    secretariat = WebClient(app.test_client())
    secretariat.login(vote.secretariat.email)
    assert "designate the runner-up" in secretariat.get("/board/results").get_data(as_text=True)
    page = secretariat.get("/board/results/runner-up").get_data(as_text=True)
    assert "Venlo" in page
    page = secretariat.post("/board/results/runner-up", {"reason": ""}).get_data(as_text=True)
    assert "Say why the designated city withdrew." in page and 'aria-invalid="true"' in page
    assert db.session.get(Cycle, vote.cycle_id).capital_city_id == vote.cities["Palermo"].id
    response = secretariat.post("/board/results/runner-up", {"reason": "Palermo cannot host after the floods."})
    assert response.status_code == 302
    assert db.session.get(Cycle, vote.cycle_id).capital_city_id == vote.cities["Venlo"].id
    monkeypatch.setattr(clock, "now", lambda: cycle.announcement_dt)  # the public sees it from then
    public = client.get(f"/vote/{cycle.year}").get_data(as_text=True)
    assert "runner-up, because: Palermo cannot host after the floods." in public
    assert client.get("/board/results/runner-up").status_code == 403  # a board member
