"""Bad input never gives a server error: NUL and control characters, numbers and ids past what a column
holds, CR/LF in ``?next=``, oversized query strings — a clear 400, 404 or error at the field, nothing stored.
On PostgreSQL (the ``app`` fixture) and on SQLite."""

import pytest
from sqlalchemy import func, select

from capital.domain.roles import Role
from capital.models import City, Cycle, Invitation, User
from tests.conftest import PASSWORD, WebClient
from tests.web.test_secretariat_cities import CITY, _count, secretariat  # noqa: F401  (a shared fixture)

HUGE = "9" * 30
PAST_INT = str(2**31)
PAST_BIGINT = str(2**63)


def _city_form(**overrides):
    return CITY | overrides


@pytest.mark.parametrize("text", ["Ven\x00lo", "Ven\x07lo", "Venlo\x1b[31m"])
def test_control_characters_in_a_form_field_are_refused_and_nothing_is_stored(client, secretariat, db, text):
    response = client.post("/secretariat/cities/new", _city_form(name=text))
    assert response.status_code == 400
    assert "control characters" in response.get_data(as_text=True)
    assert _count(db, City) == 0


def test_line_breaks_and_tabs_in_a_text_area_are_kept(client, secretariat, db):
    response = client.post("/secretariat/cities/new", _city_form(name="Córdoba\tES"))
    assert response.status_code == 302


def test_nul_in_the_sign_in_form_or_the_query_string_is_a_clear_400(client, make_user):
    user = make_user(Role.BOARD)
    assert client.post("/account/login", {"email": user.email, "password": "pass\x00word"}).status_code == 400
    assert client.get("/secretariat/people?q=a%00b").status_code == 400
    assert client.get("/?x%00y=1").status_code == 400
    client.login(user.email)


def test_nul_in_a_search_is_refused_before_the_database(client, secretariat):
    page = client.get("/secretariat/cities?q=%00")
    assert page.status_code == 400
    assert "control characters" in page.get_data(as_text=True)


def test_next_with_a_line_break_is_refused_not_a_server_error(client, make_user):
    user = make_user(Role.BOARD)
    assert client.post("/account/login?next=/board/%0d%0aSet-Cookie:x=1",
                       {"email": user.email, "password": PASSWORD}).status_code == 400
    # In a form field (the language switch), a line break is kept out of the redirect.
    response = client.post("/language", {"locale": "fr", "next": "/\r\nSet-Cookie: x=1"})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_an_oversized_query_string_is_refused(client):
    response = client.get("/?q=" + "a" * 5000)
    assert response.status_code == 400
    assert "too long" in response.get_data(as_text=True)


@pytest.mark.parametrize("number", [PAST_INT, PAST_BIGINT, HUGE])
def test_ids_past_the_column_range_are_not_found(client, secretariat, number):
    assert client.get(f"/secretariat/cycles/{number}").status_code == 404
    assert client.get(f"/secretariat/people/{number}").status_code == 404
    assert client.post(f"/secretariat/people/{number}/deactivate").status_code == 404
    assert client.get(f"/review/{number}").status_code == 404


@pytest.mark.parametrize("page", [PAST_INT, PAST_BIGINT, HUGE, "-" + HUGE, "0"])
def test_a_page_number_past_any_range_shows_an_empty_or_first_page(client, secretariat, page):
    for url in ("/secretariat/cycles", "/secretariat/people", "/secretariat/cities", "/secretariat/invitations",
                "/secretariat/mail", "/review/"):
        assert client.get(f"{url}?page={page}&status={HUGE}&role={HUGE}&state={HUGE}").status_code == 200, url


@pytest.mark.parametrize("value", [PAST_INT, HUGE, "-" + HUGE])
def test_an_integer_field_past_the_column_range_is_an_error_at_the_field(client, secretariat, db, value):
    response = client.post("/secretariat/cities/new", _city_form(population=value))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "This number is too large." in page
    assert 'value="Córdoba"' in page  # what was typed is kept
    assert _count(db, City) == 0


def test_choices_and_hidden_ids_past_the_column_range_are_refused(client, secretariat, db, make_cycle):
    invitation = client.post("/secretariat/invitations", {"email": "x@city.example", "role": int(Role.BOARD),
                                                          "city_id": PAST_INT, "locale": "en"})
    assert invitation.status_code == 200 and _count(db, Invitation) == 0
    role = client.post(f"/secretariat/people/{secretariat.id}/roles", {"role": HUGE})
    assert role.status_code == 200
    cycle = client.post("/secretariat/cycles/new", {"year": "2031", "copy_from": PAST_INT})
    assert cycle.status_code == 200 and _count(db, Cycle) == 0


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf", "1e999999"])
def test_a_decimal_that_is_not_a_finite_number_is_an_error_at_the_field(client, secretariat, db, value):
    response = client.post("/secretariat/cycles/new", {"year": "2031", "quorum_percent": value})
    assert response.status_code == 200
    assert _count(db, Cycle) == 0


@pytest.mark.parametrize("moment", ["0001-01-01T00:00", "9999-12-31T23:59"])
def test_a_deadline_at_the_calendar_s_ends_is_an_error_at_the_field(client, make_user, db, moment):
    from capital.domain.timeline import default_timeline
    from tests.web.test_secretariat_cycles import form_data

    user = make_user(Role.SECRETARIAT, locale="en")
    user.timezone = "Asia/Tokyo"  # east of UTC: the year-1 deadline would fall before the calendar starts
    db.session.commit()
    client.login(user.email)
    data = form_data(default_timeline(2031), year="2031", nominations_open_dt=moment)
    response = client.post("/secretariat/cycles/new", data)
    assert response.status_code == 200
    assert "This date is out of range." in response.get_data(as_text=True)
    assert _count(db, Cycle) == 0


def test_the_same_bad_input_on_sqlite(sqlite_app):
    from capital.extensions import db
    from capital.services.accounts import hash_password
    from capital.models import RoleGrant

    with sqlite_app.app_context():
        user = User(email="s@capital.example", name="S", password_hash=hash_password(PASSWORD))
        user.role_grants.append(RoleGrant(role=Role.SECRETARIAT))
        db.session.add(user)
        db.session.commit()
    browser = WebClient(sqlite_app.test_client())
    browser.login("s@capital.example")
    assert browser.get(f"/secretariat/people/{PAST_BIGINT}").status_code == 404
    assert browser.get(f"/secretariat/people?page={PAST_BIGINT}").status_code == 200
    assert browser.post("/secretariat/cities/new", _city_form(population=PAST_BIGINT)).status_code == 200
    assert browser.post("/secretariat/cities/new", _city_form(name="a\x00b")).status_code == 400
    with sqlite_app.app_context():
        assert db.session.scalar(select(func.count(City.id))) == 0
        db.session.remove()
