"""The board's shortlist ballot: a checkbox per nomination, errors at the field, the review in words, the receipt."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from capital.models import Ballot
from capital.models.types import utcnow
from tests.conftest import review_sizes


@pytest.fixture
def vote(make_shortlist_vote):
    return make_shortlist_vote(utcnow().replace(microsecond=0))


@pytest.fixture
def member(client, vote):
    client.login(vote.members[0].email)
    return vote.members[0]


def approve(vote, *hosts):
    return {"approve": [str(vote.ids()[host]) for host in hosts]}


def test_the_shortlist_ballot_has_a_labelled_checkbox_per_nomination(client, vote, member):
    page = client.get("/board/shortlist").get_data(as_text=True)
    for n in vote.nominations:
        assert (f'<input type="checkbox" name="approve" value="{n.id}" id="approve_{n.id}" '
                f'aria-describedby="approve_{n.id}-hint"><label for="approve_{n.id}">'
                f'{n.host_city.name}: “{n.title}”</label>') in page
    assert "Approve up to 2 of the 4 nominations" in page
    dashboard = client.get("/board/").get_data(as_text=True)
    assert "Your shortlist ballot" in dashboard
    # The final vote is ahead, not behind.
    assert "Voting opens on" in dashboard and "Voting has closed" not in dashboard


def test_too_many_approvals_are_refused_at_the_field_and_the_boxes_kept(client, db, vote, member):
    page = client.post("/board/shortlist/review", approve(vote, "Palermo", "Venlo", "Lyon")).get_data(as_text=True)
    assert 'class="error-summary"' in page
    assert "Approve at most 2 nominations: you ticked 3." in page
    # The summary links to the group of boxes (the ballot lists Lyon first, by host city).
    assert f'<a href="#rank_{vote.ids()["Lyon"]}">Approve at most 2' in page
    assert f'value="{vote.ids()["Lyon"]}" id="approve_{vote.ids()["Lyon"]}" checked' in page
    empty = client.post("/board/shortlist/review", {}).get_data(as_text=True)
    assert "Approve at least one nomination." in empty
    assert db.session.query(Ballot).count() == 0


def test_review_in_words_then_cast_stores_one_equal_group_and_shows_the_receipt(client, db, vote, member):
    page = client.post("/board/shortlist/review", approve(vote, "Venlo", "Lyon")).get_data(as_text=True)
    assert "You approve:" in page and "<strong>Lyon, Venlo</strong>" in page  # in the ballot's order
    assert db.session.query(Ballot).count() == 0
    response = client.post("/board/shortlist/cast", approve(vote, "Venlo", "Lyon") | {"cast": "1"})
    [ballot] = db.session.scalars(select(Ballot)).all()
    assert response.headers["Cache-Control"] == "no-store"
    assert f">{ballot.receipt_code}<" in response.get_data(as_text=True)
    assert "Your ballot in the shortlist vote is cast" in response.get_data(as_text=True)
    assert ballot.ranking == [sorted([vote.ids()["Venlo"], vote.ids()["Lyon"]])] and ballot.voter_id is None
    assert "You have voted in the shortlist vote." in client.get("/board/shortlist").get_data(as_text=True)
    again = client.post("/board/shortlist/cast", approve(vote, "Palermo") | {"cast": "1"})
    assert "You have already voted in this round." in again.get_data(as_text=True)
    assert db.session.query(Ballot).count() == 1


def test_a_cast_without_the_csrf_token_is_refused(client, db, vote, member):
    response = client.post_raw("/board/shortlist/cast", data=approve(vote, "Venlo") | {"cast": "1"})
    assert response.status_code == 400 and db.session.query(Ballot).count() == 0


def test_shortlisted_shows_on_the_public_pages_and_the_api_from_its_publication_to_the_second(
        client, db, make_vote, monkeypatch):
    from capital.public import clock
    from tests.conftest import VOTE_YEAR
    from tests.web.test_finalist_update import PUBLICATION as publication, publish_shortlist

    publish_shortlist(db, make_vote)
    urls = ("/nominees", f"/{VOTE_YEAR}")
    api = f"/api/v1/cycles/{VOTE_YEAR}/nominees"
    monkeypatch.setattr(clock, "now", lambda: publication - timedelta(seconds=1))
    client.app.extensions["capital_page_cache"].bump()
    for url in (*urls, "/feed.atom", "/calendar.ics"):
        assert "Shortlisted" not in client.get(url).get_data(as_text=True), url
    assert not any(n["is_shortlisted"] for n in client.get(api).get_json()["items"])
    monkeypatch.setattr(clock, "now", lambda: publication)
    client.app.extensions["capital_page_cache"].bump()
    for url in urls:
        page = client.get(url).get_data(as_text=True)
        assert page.count('<span class="tag">Shortlisted</span>') == 1, url  # Venlo only: nobody approved the rest
        assert 'Venlo together <span class="tag">Shortlisted</span>' in page, url
    items = client.get(api).get_json()["items"]
    assert {n["host_city"]["name"]: n["is_shortlisted"] for n in items} == {
        "Palermo": False, "Venlo": True, "Lyon": False}
    calendar = client.get("/calendar.ics").get_data(as_text=True)
    assert "Shortlisted: Venlo." in calendar
    feed = client.get("/feed.atom").get_data(as_text=True)
    assert f"The shortlist of the Capital of Living Together {VOTE_YEAR}" in feed and "Shortlisted: Venlo." in feed


def test_the_review_page_and_its_cast_form_have_one_size_whatever_is_approved(client, vote, member):
    words, sizes, bodies = review_sizes(client, "/board/shortlist/review", [approve(vote, *hosts) for hosts in (
        ("Lyon",), ("Venlo",), ("Palermo", "Tunis"), ("Lyon", "Venlo"), ("Tunis",))])
    assert len(words) == 5  # five sets of approvals, told apart on the page…
    assert len(sizes) == 1 and len(bodies) == 1  # …but not by its size, nor by the size of the cast
