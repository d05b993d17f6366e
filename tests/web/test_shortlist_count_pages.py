"""The shortlist vote's count as the board, the secretariat and the observers see it (/board/shortlist/results):
from the count on, not public until the shortlist's publication, counts only, the K-th place tie explained."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from capital.board import shortlist_routes
from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.models import Ballot, Cycle
from capital.services import voting
from capital.services.cycles import advance_due_cycles
from tests.services.test_shortlist import HOSTS, PUBLICATION, SECOND, SHORTLIST_CLOSES, SHORTLIST_OPENS, _approve, _open

URL = "/board/shortlist/results"


@pytest.fixture
def vote(make_vote):
    """Four eligible nominations, seven members, a shortlist of two; the review is over."""
    from tests.services.test_shortlist import UPDATES_CLOSE

    return make_vote(hosts=HOSTS, members=7, shortlist_size=2, shortlist_open_dt=SHORTLIST_OPENS,
                     shortlist_close_dt=SHORTLIST_CLOSES, shortlist_publication_dt=PUBLICATION,
                     finalist_update_close_dt=UPDATES_CLOSE)


def _count(db, vote, ballots):
    """The shortlist vote opened, the last member standing aside, ``ballots`` cast, then counted."""
    _open(db, vote)
    voting.declare_conflict(vote.cycle, vote.members[-1], "I advise Lyon.", now=SHORTLIST_OPENS + SECOND)
    db.session.commit()
    receipts = [_approve(db, vote, member, *hosts).code for member, hosts in zip(vote.members, ballots)]
    advance_due_cycles(SHORTLIST_CLOSES)
    db.session.commit()
    return receipts


# Venlo 3, Palermo 2, Lyon 2, Tunis 0: Palermo and Lyon tie at the second and last place.
TIED = [("Palermo", "Venlo"), ("Venlo",), ("Lyon", "Venlo"), ("Lyon",), ("Palermo",)]


@pytest.fixture
def at(monkeypatch):
    def moment(now):
        monkeypatch.setattr(shortlist_routes, "utcnow", lambda: now)
    return moment


def test_the_count_page_is_for_the_board_the_secretariat_and_the_observers_from_the_count_on(
        client, db, vote, make_user):
    observer = make_user(Role.OBSERVER)
    representative = make_user(Role.REPRESENTATIVE, city=vote.nominations[0].nominating_city)
    _open(db, vote)
    client.login(vote.members[0].email)
    assert client.get(URL).status_code == 404  # the vote is open: nothing is counted
    assert "Count of the shortlist vote" not in client.get("/board/").get_data(as_text=True)
    client.post("/account/logout")
    advance_due_cycles(SHORTLIST_CLOSES)
    db.session.commit()
    for person in (vote.members[0], vote.secretariat, observer):
        client.login(person.email)
        assert client.get(URL).status_code == 200, person.email
        client.post("/account/logout")
    client.login(representative.email)
    assert client.get(URL).status_code == 403
    client.post("/account/logout")
    assert client.get(URL).status_code in (302, 401)  # signed out: to the sign-in page


def test_before_its_publication_the_count_is_shown_with_the_tie_and_not_public_wording(client, db, vote, at):
    receipts = _count(db, vote, TIED)
    order = voting.current_round(vote.cycle, shortlist=True).tie_break_order
    ids = vote.ids()
    chosen, left_out = sorted(("Palermo", "Lyon"), key=lambda host: order.index(ids[host]))
    at(PUBLICATION - SECOND)
    recused = vote.members[-1]  # stands aside, and reads the count like any member of the board
    client.login(recused.email)
    assert f'href="{URL}"' in client.get("/board/").get_data(as_text=True)
    page = client.get(URL).get_data(as_text=True)
    assert "Count of the shortlist vote, 2031" in page
    assert "Not public until 5 February 2031, 12:00" in page
    assert "<dt>Places on the shortlist</dt><dd>2</dd>" in page
    assert "5 of 6 board members on the roll" in page
    assert "<dt>Ballots needed for the quorum</dt><dd>3</dd>" in page and "<dt>Quorum</dt><dd>met</dd>" in page
    assert "<caption>Approvals of each nomination, in the order of the count</caption>" in page
    lines = re.findall(r'<td data-label="Nomination">(?:<strong>)?([^<]+)(?:</strong>)?</td>\s*'
                       r'<td data-label="Approvals">(\d+)</td>', page)
    assert lines == [("Venlo", "3"), (chosen, "2"), (left_out, "2"), ("Tunis", "0")]
    assert page.count('<span class="tag">Finalist</span>') == 2
    assert (f"A tie at the shortlist’s last place: {chosen}, {left_out} had 2 approvals each. The published "
            f"tie-break order decided it: {chosen} on the shortlist, {left_out} not.") in page
    assert "Publish the shortlist now" not in page  # the board does not publish
    # Counts only: no receipt, no voter's name.
    for secret in [*receipts, *(b.receipt_code for b in db.session.scalars(select(Ballot)))]:
        assert secret not in page
    assert not any(member.name in page for member in vote.members if member is not recused)


def test_the_secretariat_may_publish_from_the_count_page_while_the_shortlist_awaits_publication(
        client, db, vote, at):
    _count(db, vote, TIED)
    at(PUBLICATION - SECOND)
    client.login(vote.secretariat.email)
    link = f'href="/secretariat/cycles/{vote.cycle_id}/phase/shortlisted"'
    assert link in client.get(URL).get_data(as_text=True)
    cycle_page = client.get(f"/secretariat/cycles/{vote.cycle_id}").get_data(as_text=True)
    # The shortlist's count is there; the final vote's result is not (yet): no link to a page that has none.
    assert f'href="{URL}"' in cycle_page and 'href="/board/results"' not in cycle_page
    advance_due_cycles(PUBLICATION)
    db.session.commit()
    assert db.session.get(Cycle, vote.cycle_id).phase == Phase.SHORTLISTED
    at(PUBLICATION)
    page = client.get(URL).get_data(as_text=True)
    assert link not in page  # published: nothing left to publish
    assert "The shortlist was published on 5 February 2031, 12:00" in page and "Not public until" not in page
    assert page.count('<span class="tag">Finalist</span>') == 2


def test_without_the_quorum_nobody_is_a_finalist_and_the_page_says_what_follows(client, db, vote, at):
    _count(db, vote, [("Lyon",), ("Lyon", "Venlo")])  # two of six: the quorum is three
    at(PUBLICATION - SECOND)
    client.login(vote.secretariat.email)
    page = client.get(URL).get_data(as_text=True)
    assert "<dt>Quorum</dt><dd>not met</dd>" in page and "2 of 6 board members on the roll" in page
    assert "The quorum was not met: there is no shortlist, and the cycle ends without a capital designated." in page
    assert "The board did not reach its quorum in the shortlist vote." in page
    assert "Not public yet" in page and "Not public until" not in page
    assert "Finalist</span>" not in page and "A tie at" not in page and "/phase/shortlisted" not in page


def test_the_final_votes_result_links_to_the_shortlist_count(client, db, vote, at):
    _count(db, vote, TIED)
    advance_due_cycles(PUBLICATION)
    db.session.commit()
    final = vote.open()
    for member in vote.members[:4]:
        voting.cast_ballot(vote.cycle, member, ((final.tie_break_order[0],),), now=vote.OPENS + SECOND)
        db.session.commit()
    vote.close()
    client.login(vote.secretariat.email)
    assert 'href="/board/results"' in client.get(f"/secretariat/cycles/{vote.cycle_id}").get_data(as_text=True)
    client.post("/account/logout")
    client.login(vote.members[0].email)
    assert f'href="{URL}"' in client.get("/board/results").get_data(as_text=True)
    at(vote.CLOSES)
    page = client.get(URL).get_data(as_text=True)
    assert "The shortlist was published on" in page and page.count('<span class="tag">Finalist</span>') == 2
