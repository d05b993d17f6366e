"""A ballot cast at the instant the vote closes is counted if and only if it was stored before the
close: board members post their ballots over HTTP around the voting deadline, on the real clock,
while the periodic tick closes the round at that deadline, on PostgreSQL.

The service-level race (tests/services/test_voting.py) closes by hand at a fixed moment; here the
whole path people use runs: the cast route reads the server clock, the tick (as beat runs it,
again and again) skips the cycle while casts hold their shared locks and closes it once they are
done, and the member's receipt code is checked against the published ballot file.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import date, timedelta

from sqlalchemy import select, text

from capital.domain.phase import Phase
from capital.domain.timeline import validate_timeline
from capital.models import Ballot, Cycle, Participation, VotingRound
from capital.models.types import utcnow
from capital.services.cycles import cycle_timeline
from capital.services.voting import latest_result
from capital.tasks.deadlines import tick
from tests.conftest import WebClient
from tests.web.test_ballot_pages import ranks

MEMBERS = 30
EARLY = range(0, 8)  # post well before the deadline: all of them must be stored
AT_THE_CLOSE = range(8, 22)  # post as the deadline comes and the tick runs: either outcome, as stored
LATE = range(22, MEMBERS)  # post once the tick has closed the round: all of them must be refused
RECEIPT = re.compile(r'<p class="code" translate="no" dir="ltr">([2-9A-Z]{4}(?:-[2-9A-Z]{4}){3})</p>')
REFUSAL = "Voting is not open: the ballot was not stored."


def _wait_until(moment) -> None:
    time.sleep(max(0.0, (moment - utcnow()).total_seconds()))


def test_a_ballot_cast_at_the_close_is_counted_exactly_when_it_was_stored_before_it(app, db, make_vote):
    now = utcnow()
    vote = make_vote(members=MEMBERS, terms=(now.date() - timedelta(days=400), date(2031, 12, 31)))
    clients = []
    for member in vote.members:  # signed in, with their form token, before the race
        client = WebClient(app.test_client())
        client.login(member.email)
        client.csrf_token()
        clients.append(client)
    form = ranks(vote, Palermo="1", Venlo="2") | {"cast": "1"}

    # Voting opened an hour ago and closes in a few seconds by the real clock; the timeline stays valid.
    opened = utcnow()
    deadline = opened + timedelta(seconds=3)
    cycle = vote.cycle
    cycle.nominations_open_dt = opened - timedelta(days=60)
    cycle.nominations_close_dt = opened - timedelta(days=1)
    cycle.voting_open_dt = opened - timedelta(hours=1)
    cycle.voting_close_dt = deadline
    cycle.announcement_dt = deadline + timedelta(hours=1)
    db.session.commit()
    voting_round = vote.open(opened - timedelta(hours=1))
    assert voting_round.closes_dt == deadline and sorted(voting_round.roll) == sorted(m.id for m in vote.members)
    assert validate_timeline(cycle_timeline(cycle), utcnow(), phase=Phase.VOTING_OPEN) == []
    cycle_id, round_id = vote.cycle_id, voting_round.id
    db.session.close()  # the test's session holds nothing while the race runs

    closed = threading.Event()
    outcomes, errors = {}, []

    def post(i: int) -> None:
        try:
            if i in EARLY:  # from 2 s to 1.6 s before the deadline
                _wait_until(deadline - timedelta(milliseconds=2000 - 60 * i))
            elif i in AT_THE_CLOSE:  # every 12 ms from 150 ms before the deadline to just after it
                _wait_until(deadline - timedelta(milliseconds=150 - 12 * (i - AT_THE_CLOSE[0])))
            else:
                assert closed.wait(30), "the tick never closed the round"
            outcomes[i] = clients[i].post("/board/vote/cast", form)
        except Exception as error:  # noqa: BLE001  (reported below: a thread's exception is lost)
            errors.append(error)

    def beat() -> None:
        """The tick at the deadline, then again and again like beat until the round is closed."""
        try:
            _wait_until(deadline)
            for _ in range(500):
                with app.app_context():  # its own session, removed after each tick as in a worker
                    tick()
                    if db.session.scalar(select(Cycle.phase).where(Cycle.id == cycle_id)) != Phase.VOTING_OPEN:
                        closed.set()
                        return
                time.sleep(0.02)
        except Exception as error:  # noqa: BLE001
            errors.append(error)
            closed.set()  # the late posts stop waiting

    threads = [threading.Thread(target=post, args=(i,)) for i in range(MEMBERS)] + [threading.Thread(target=beat)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and closed.is_set() and len(outcomes) == MEMBERS

    # Each member saw either the receipt page or the refusal in the ballot page's error summary; nothing else.
    receipts, refused = {}, set()
    for i, response in outcomes.items():
        page = response.get_data(as_text=True)
        assert response.status_code == 200, (i, response.status_code)
        codes = RECEIPT.findall(page)
        if codes:
            assert REFUSAL not in page and "Your ballot is cast" in page
            [receipts[i]] = codes
        else:
            # At the top, not linked to a rank field: the ballot form is gone once voting is closed.
            assert re.search(rf'class="error-summary".*<li>{re.escape(REFUSAL)}</li>', page, re.S), page
            assert "You have not voted yet." in page
            refused.add(i)
    assert set(EARLY) <= set(receipts) and set(LATE) <= refused

    # Counted if and only if the member was told so: the published file holds exactly the receipts shown.
    cycle = db.session.get(Cycle, cycle_id)
    result = latest_result(cycle)
    assert cycle.phase == Phase.VOTING_CLOSED and result.round_id == round_id
    published = [line.rsplit(" # ", 1)[1] for line in result.ballot_file.splitlines() if not line.startswith("#")]
    assert sorted(published) == sorted(receipts.values())
    assert result.ballots_cast == len(receipts)
    assert sorted(db.session.scalars(select(Ballot.receipt_code))) == sorted(receipts.values())
    voting_round = db.session.get(VotingRound, round_id)
    participations = db.session.scalars(select(Participation).where(Participation.round_id == round_id)).all()
    assert sorted(p.user_id for p in participations) == sorted(vote.members[i].id for i in receipts)
    assert voting_round.closed_dt >= deadline
    assert [p.voted_dt for p in participations if p.voted_dt >= deadline] == []  # by the server's clock
    # Every stored ballot went through the close's shuffle: written by the transaction that counted them.
    assert set(db.session.execute(text("SELECT xmin::text FROM ballots")).scalars()) == set(
        db.session.execute(text("SELECT xmin::text FROM results")).scalars())
