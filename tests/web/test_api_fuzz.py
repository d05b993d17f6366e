"""Schemathesis against /api/v1/openapi.json: no server error, and every response matches the document."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from capital.api import PREFIX
from capital.domain.phase import Phase
from capital.pagination import MAX_PAGE
from capital.public import clock
from tests.public_data import AFTER, make_counted_cycle


@pytest.fixture
def api_schema(app, db, make_city, make_cycle, monkeypatch):
    """The document as the app serves it, over an announced vote and an open call for nominations."""
    make_counted_cycle(db, make_city)
    make_cycle(Phase.NOMINATIONS_OPEN, year=2032)
    monkeypatch.setattr(clock, "now", lambda: AFTER)
    return schemathesis.openapi.from_wsgi(f"{PREFIX}/openapi.json", app)


# One hypothesis run per operation, from the operation's strategy: schemathesis's own pytest
# plugin (``from_fixture``) does not run under pytest 9.
# Each call in a fresh application context, as in production (its own database session).
def test_every_operation_answers_as_documented(app, api_schema):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 5
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=100, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow])
        def answers_as_documented(case):
            with app.app_context():
                # Uncompressed: the WSGI transport does not decode gzip as an HTTP client does
                # (compression has its own tests, tests/web/test_compression.py).
                case.call_and_validate(headers={"Accept-Encoding": "identity"})

        answers_as_documented()


# What schemathesis found first: page numbers past the database's integers, and the document
# calling the year a string.
def test_a_page_number_past_any_integer_is_answered_as_the_last_page(client, make_cycle):
    make_cycle(Phase.NOMINATIONS_OPEN, year=2032)
    response = client.get(f"{PREFIX}/cycles?page=99999999999999999999&per_page=100")
    assert response.status_code == 200
    assert response.json["items"] == [] and response.json["page"] == MAX_PAGE and response.json["total"] == 1


def test_the_document_gives_the_year_as_a_bounded_integer(client):
    document = client.get(f"{PREFIX}/openapi.json").json
    year = document["paths"]["/cycles/{year}"]["get"]["parameters"][0]
    assert year["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
    assert client.get(f"{PREFIX}/cycles/{2**31}").status_code == 404
