"""The read-only JSON API and its OpenAPI document agree, and the API keeps the embargo."""

import itertools

import pytest
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from werkzeug.exceptions import NotFound

from capital.api import PREFIX
from capital.api.openapi import openapi_path
from capital.domain.phase import Phase
from capital.public import clock
from tests.public_data import AFTER, BEFORE, WINNER, make_counted_cycle


@pytest.fixture
def spec(client):
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    document = response.json
    assert document["openapi"].startswith("3.")
    return document


def validate(spec, path, response):
    """The response's body against the schema the document gives for its path and status."""
    responses = spec["paths"][path]["get"]["responses"]
    assert str(response.status_code) in responses, (path, response.status_code)
    schema = responses[str(response.status_code)]["content"]["application/json"]["schema"]
    OAS30Validator({**schema, "components": spec["components"]}, format_checker=oas30_format_checker).validate(
        response.json)


def test_every_documented_path_exists_and_every_api_route_is_documented(app, spec):
    adapter = app.url_map.bind("localhost")
    for path in spec["paths"]:
        endpoint, _ = adapter.match(PREFIX + path.replace("{year}", "2031"), method="GET")
        assert endpoint.startswith("api.")
    routes = {openapi_path(rule.rule).removeprefix(PREFIX) for rule in app.url_map.iter_rules()
              if rule.rule.startswith(PREFIX + "/")}
    assert routes == set(spec["paths"])
    with pytest.raises(NotFound):
        adapter.match(PREFIX + "/no-such-thing")


@pytest.mark.parametrize("moment", [BEFORE, AFTER], ids=["before", "after"])
def test_every_response_validates_against_the_document(client, db, make_city, make_cycle, spec, monkeypatch,
                                                       moment):
    make_counted_cycle(db, make_city)
    make_cycle(Phase.NOMINATIONS_OPEN, year=2032)
    monkeypatch.setattr(clock, "now", lambda: moment)
    checked = 0
    for path, year, query in itertools.product(spec["paths"], ["2031", "2032", "1990"],
                                               ["", "?page=1&per_page=1", "?page=2&per_page=1", "?page=x"]):
        response = client.get(PREFIX + path.replace("{year}", year) + query)
        assert response.mimetype == "application/json"
        validate(spec, path, response)
        checked += 1
    assert checked == len(spec["paths"]) * 12


def test_capitals_and_results_appear_only_from_the_announcement_time(client, db, make_city, monkeypatch):
    make_counted_cycle(db, make_city)
    monkeypatch.setattr(clock, "now", lambda: BEFORE)
    assert client.get(f"{PREFIX}/capitals").json["items"] == []
    cycle = client.get(f"{PREFIX}/cycles/2031").json
    assert cycle["capital"] is None and cycle["result_public"] is False and cycle["phase"] == "announced"
    hidden = client.get(f"{PREFIX}/cycles/2031/result")
    assert hidden.status_code == 404 and WINNER not in hidden.get_data(as_text=True)

    monkeypatch.setattr(clock, "now", lambda: AFTER)
    [capital] = client.get(f"{PREFIX}/capitals").json["items"]
    assert capital["years"] == [2031] and capital["city"]["name"] == WINNER
    result = client.get(f"{PREFIX}/cycles/2031/result").json
    assert result["capital"]["name"] == WINNER and result["rounds"][0]["winner"] == WINNER
    assert result["rounds"][0]["tally"]["method"] == "irv" and result["rounds"][0]["ballots_cast"] == 5


def test_nominees_are_public_once_nominations_close(client, db, make_city, make_cycle):
    make_cycle(Phase.NOMINATIONS_OPEN, year=2032)
    early = client.get(f"{PREFIX}/cycles/2032/nominees")
    assert early.status_code == 404 and early.json["error"] == "Not public yet"
    make_counted_cycle(db, make_city)
    page = client.get(f"{PREFIX}/cycles/2031/nominees?per_page=2").json
    assert (page["total"], page["pages"], len(page["items"])) == (3, 2, 2)
    assert page["items"][0]["title"] == "Palermo celebrates living together"


def test_cycles_are_paged_in_the_database(client, make_cycle):
    for year in (2032, 2033, 2034):
        make_cycle(Phase.DRAFT, year=year)
    first = client.get(f"{PREFIX}/cycles?per_page=2").json
    second = client.get(f"{PREFIX}/cycles?per_page=2&page=2").json
    assert [c["year"] for c in first["items"]] == [2034, 2033] and [c["year"] for c in second["items"]] == [2032]
    assert first["total"] == 3 and first["pages"] == 2
    assert first["items"][0]["deadlines"]["nominations_close"].endswith("+00:00")


def test_api_answers_carry_validators_and_answer_conditional_requests(client, db, make_city, monkeypatch):
    make_counted_cycle(db, make_city)
    monkeypatch.setattr(clock, "now", lambda: AFTER)
    first = client.get(f"{PREFIX}/cycles/2031/result")
    assert first.headers["ETag"] and "public" in first.headers["Cache-Control"]
    again = client.get(f"{PREFIX}/cycles/2031/result", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("query", ["per_page=null", "per_page=", "per_page=0", "per_page=101", "per_page=x",
                                   "page=null", "page=0", "page=-1", "per_page=" + "9" * 5000, "page=1e3"])
def test_a_page_or_page_size_not_as_documented_is_a_documented_400(client, make_cycle, spec, query):
    make_cycle(Phase.NOMINATIONS_CLOSED, year=2032)
    for path in ("/cycles", "/capitals", "/cycles/2032/nominees"):
        response = client.get(f"{PREFIX}{path}?{query}")
        assert response.status_code == 400 and response.json["error"] == "Bad request", (path, query)
        documented = spec["paths"][path.replace("2032", "{year}")]["get"]["responses"]
        assert "400" in documented
        validate(spec, path.replace("2032", "{year}"), response)
