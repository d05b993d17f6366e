"""The audit log page: filtered by who, what, cycle and day, a page at a time, its chain checked, exported."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from capital.domain.audit_chain import Summary, first_break
from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.services.audit import record
from tests.web.test_query_counts import counted

NOW = datetime(2031, 3, 16, 12, 0, tzinfo=UTC)
CONCERNING = re.compile(r'<td data-label="Concerning">str ([^<]+)</td>')
LINK = re.compile(r'<a rel="(prev|next)" href="([^"]+)">')


@pytest.fixture
def log(db, make_user, make_cycle):
    """120 entries, one a minute back from NOW: by Sofia, by Omar, or the worker; the first 30 about a cycle."""
    sofia = make_user(Role.SECRETARIAT, name="Sofia Secretary", email="sofia@capital.example")
    sofia.timezone = "UTC"
    omar = make_user(Role.BOARD, name="Omar Board", email="omar@capital.example")
    cycle = make_cycle(Phase.DRAFT, year=2033)
    actors = [sofia, omar, "worker"]
    for n in range(120):
        record("city.updated" if n % 2 else "role.granted", f"e{n}", actor=actors[n % 3],
               now=NOW - timedelta(minutes=n), cycle_id=cycle.id if n < 30 else None, data={"n": n})
    db.session.commit()
    return {"sofia": sofia, "omar": omar, "cycle": cycle}


def _rows(page: str) -> list[int]:
    return [int(found[1:]) for found in CONCERNING.findall(page)]


def _walk(client, url: str) -> list[list[int]]:
    pages = []
    while url:
        page = client.get(url).get_data(as_text=True)
        pages.append(_rows(page))
        url = next((html.unescape(href) for rel, href in LINK.findall(page) if rel == "next"), None)
    return pages


def test_the_log_pages_newest_first_through_every_entry_once(client, log):
    client.login(log["sofia"].email)
    pages = _walk(client, "/secretariat/audit")
    assert [len(page) for page in pages][:2] == [50, 50]
    entries = [n for page in pages for n in page]
    # The fixture's 120 entries, newest first, after what signing in recorded (nothing, or newer ones).
    assert [n for n in entries] == list(range(120))


@pytest.mark.parametrize("query,expected", [
    ("actor=sofia", [n for n in range(120) if n % 3 == 0]),
    ("actor=OMAR%40capital.example", [n for n in range(120) if n % 3 == 1]),
    ("actor=worker", [n for n in range(120) if n % 3 == 2]),
    ("action=city.updated", [n for n in range(120) if n % 2]),
    ("action=role.granted&actor=omar", [n for n in range(120) if n % 2 == 0 and n % 3 == 1]),
    ("actor=nobody+at+all", []),
])
def test_the_log_filters_by_who_and_what(client, log, query, expected):
    client.login(log["sofia"].email)
    assert [n for page in _walk(client, f"/secretariat/audit?{query}") for n in page] == expected


def test_the_log_filters_by_cycle_and_by_day_in_the_readers_time_zone(client, log, db):
    client.login(log["sofia"].email)
    page = client.get(f"/secretariat/audit?cycle={log['cycle'].id}").get_data(as_text=True)
    assert _rows(page) == list(range(30))
    # NOW is 12:00 UTC: 120 minutes back reaches 10:01 on the same day; nothing the day before.
    assert _walk(client, "/secretariat/audit?since=2031-03-16&until=2031-03-16")[0][:1] == [0]
    assert _walk(client, "/secretariat/audit?until=2031-03-15") == [[]]
    # In Auckland (UTC+13 in March) 17 March begins at 11:00 UTC: entries 0 to 60 fall on it, the rest on the 16th.
    log["sofia"].timezone = "Pacific/Auckland"
    db.session.commit()
    assert [n for page in _walk(client, "/secretariat/audit?since=2031-03-17") for n in page] == list(range(61))
    assert [n for page in _walk(client, "/secretariat/audit?until=2031-03-16") for n in page] == list(range(61, 120))


def test_a_filter_that_cannot_be_read_is_explained_at_its_field(client, log):
    client.login(log["sofia"].email)
    response = client.get("/secretariat/audit?since=2031-03-16&until=2031-03-10&action=no.such")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'class="error-summary"' in page
    assert '<a href="#until">The last day must not be before the first.</a>' in page
    assert '<a href="#action">Choose a kind of entry from the list.</a>' in page
    assert 'id="until-error"' in page and 'aria-invalid="true"' in page
    assert len(_rows(page)) == 50  # the unfiltered log meanwhile, not a wrong selection


def test_a_deep_page_costs_the_same_queries_as_the_first(client, db, log):
    client.login(log["sofia"].email)
    with counted(db) as first:
        page = client.get("/secretariat/audit?action=city.updated").get_data(as_text=True)
    deeper = html.unescape(dict(LINK.findall(page))["next"])
    with counted(db) as second:
        client.get(deeper)
    assert len(second) == len(first)
    assert not any("OFFSET" in statement.upper() for statement in second)


def test_the_chain_page_says_it_is_intact_then_where_an_edited_entry_breaks_it(client, db, log):
    client.login(log["sofia"].email)
    intact = client.get("/secretariat/audit/chain").get_data(as_text=True)
    assert "The chain is intact" in intact and "The chain is broken" not in intact
    with db.engine.begin() as connection:
        seq = connection.execute(text("SELECT seq FROM audit_log WHERE object_id = 'e100'")).scalar()
        connection.execute(text("""UPDATE audit_log SET data = '{"n": 1000}' WHERE object_id = 'e100'"""))
    db.session.remove()
    broken = client.get("/secretariat/audit/chain").get_data(as_text=True)
    assert "The chain is broken" in broken and "The chain is intact" not in broken
    assert "This entry was edited: its content no longer matches its hash." in broken
    assert f"<dt>Number in the chain</dt><dd>{seq}</dd>" in broken


def test_the_chain_page_speaks_the_readers_language(client, db, log):
    log["sofia"].locale = "fr"
    db.session.commit()
    client.login(log["sofia"].email)
    with db.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE object_id = 'e50'"))
    db.session.remove()
    page = client.get("/secretariat/audit/chain").get_data(as_text=True)
    assert "The chain is broken" not in page and "La chaîne est rompue" in page


def test_the_json_lines_export_holds_the_filtered_entries_and_a_whole_export_verifies(client, log):
    client.login(log["sofia"].email)
    response = client.get("/secretariat/audit/export.jsonl?actor=omar")
    assert response.headers["Content-Type"].startswith("application/jsonl")
    assert "attachment" in response.headers["Content-Disposition"]
    lines = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert sorted(line["data"]["n"] for line in lines) == [n for n in range(120) if n % 3 == 1]
    assert {line["actor_name"] for line in lines} == {"Omar Board"}

    everything = [json.loads(line) for line in client.get("/secretariat/audit/export.jsonl").get_data(as_text=True).splitlines()]
    for line in everything:
        line["dt"] = datetime.fromisoformat(line["dt"])
    assert isinstance(first_break(everything), Summary)
    everything[3]["data"] = {"n": -1}
    assert not isinstance(first_break(everything), Summary)  # the check is real


def test_the_csv_export_has_the_same_columns_and_keeps_formulas_as_text(client, db, log):
    record("city.updated", "e-formula", actor="cli", now=NOW, data={"name": "x"}, cycle_id=None)
    db.session.commit()
    with db.engine.begin() as connection:  # as a hostile value would arrive in an object's id
        connection.execute(text("UPDATE audit_log SET object_id = '=HYPERLINK(\"http://evil\")' WHERE object_id = 'e-formula'"))
    client.login(log["sofia"].email)
    response = client.get("/secretariat/audit/export.csv")
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0]) == ["seq", "id", "dt", "actor_id", "actor_label", "actor_name", "action", "object_type",
                             "object_id", "cycle_id", "data", "prev_hash", "entry_hash"]
    assert len([row for row in rows if row["object_type"] == "str"]) == 121
    assert [row["object_id"] for row in rows if "HYPERLINK" in row["object_id"]] == ["'=HYPERLINK(\"http://evil\")"]
    assert [int(row["seq"]) for row in rows] == sorted(int(row["seq"]) for row in rows)


def test_an_export_with_a_filter_that_cannot_be_read_goes_back_to_the_page(client, log):
    client.login(log["sofia"].email)
    response = client.get("/secretariat/audit/export.csv?since=nonsense")
    assert response.status_code == 302 and response.headers["Location"].startswith("/secretariat/audit?")
