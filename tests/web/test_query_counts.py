"""The listings fixed for N+1 keep a number of queries that does not grow with their rows."""

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from capital.domain.nominations import NominationState
from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.models import Cycle, Nomination
from capital.services.audit import record
from tests.conftest import NOW


@contextmanager
def counted(db):
    """Collect the SQL statements run inside the block."""
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def queries_for(client, db, url) -> int:
    client.app.extensions["capital_page_cache"].bump()  # count the page's own queries, not a cache hit
    with counted(db) as statements:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(statements)


@pytest.fixture
def world(db, make_city, make_user, make_cycle):
    """Adds ``n`` more rows to every listing each time it is called."""
    cycle = make_cycle(Phase.NOMINATIONS_CLOSED)
    past = 2000

    def grow(n):
        nonlocal past
        for _ in range(n):
            nominator, host = make_city(), make_city()
            make_user(Role.REPRESENTATIVE, city=nominator)
            for state in (NominationState.SUBMITTED, NominationState.ELIGIBLE):
                db.session.add(Nomination(cycle_id=cycle.id, nominating_city_id=nominator.id,
                                          host_city_id=host.id, state=state, title=f"For {host.name}",
                                          submitted_dt=NOW))
            past += 1
            db.session.add(Cycle(year=past, celebration_date=cycle.celebration_date.replace(year=past),
                                 phase=Phase.ANNOUNCED, capital_city_id=host.id))
            record("cycle.updated", cycle, actor=make_user(Role.SECRETARIAT), now=NOW, cycle_id=cycle.id)
        db.session.commit()

    return cycle, grow


@pytest.mark.parametrize(("role", "url"), [
    (Role.SECRETARIAT, "/secretariat/cities"),
    (Role.SECRETARIAT, "/secretariat/people"),
    (Role.SECRETARIAT, "/secretariat/cycles"),
    (Role.SECRETARIAT, "/secretariat/cycles/{cycle}"),
    (Role.SECRETARIAT, "/review/"),
    (Role.BOARD, "/review/board"),
    (None, "/nominees"),
])
def test_a_listing_runs_as_many_queries_for_three_rows_as_for_one(client, db, make_user, world, role, url):
    cycle, grow = world
    if role is not None:
        client.login(make_user(role).email)
    url = url.format(cycle=cycle.id)
    grow(1)
    client.get(url)  # warm caches (the session's user, the catalogs)
    few = queries_for(client, db, url)
    grow(2)
    assert queries_for(client, db, url) == few


@pytest.mark.parametrize("hosts", [3, 12])
def test_the_ballot_page_reads_its_rows_in_one_query_whatever_their_number(client, db, make_vote, hosts):
    vote = make_vote(hosts=[f"City {n}" for n in range(hosts)], members=3)
    vote.open()
    client.login(vote.members[0].email)
    with counted(db) as statements:
        page = client.get("/board/vote").get_data(as_text=True)
    assert page.count('class="rank-input"') == hosts
    # The same statements for 3 lines as for 12: none per line (the member, the cycle, the round, the rows…).
    assert len(statements) == 8, statements
