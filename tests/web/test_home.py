"""The home page: the current capital and its programme, and the countdown to 16 May without JavaScript."""

from datetime import UTC, datetime

import pytest

from capital.domain.countdown import days_to_celebration, next_day_start
from capital.public import clock
from tests.public_data import AFTER, BEFORE, make_counted_cycle


@pytest.fixture
def at(monkeypatch):
    def set_time(moment):
        monkeypatch.setattr(clock, "now", lambda: moment)
    return set_time


def home(client, locale="en"):
    response = client.get("/", headers={"Accept-Language": locale})
    assert response.status_code == 200
    return response


def test_days_to_the_next_16_may():
    assert days_to_celebration(datetime(2031, 5, 15).date()) == 1
    assert days_to_celebration(datetime(2031, 5, 16).date()) == 0
    assert days_to_celebration(datetime(2031, 5, 17).date()) == 365  # 2032 is a leap year
    assert days_to_celebration(datetime(2031, 12, 31).date()) == 137
    assert next_day_start(datetime(2031, 5, 14, 23, 59, tzinfo=UTC)) == datetime(2031, 5, 15, tzinfo=UTC)


def test_the_home_page_shows_the_capital_with_its_programme_after_the_announcement(client, db, make_city, at):
    make_counted_cycle(db, make_city)
    at(BEFORE)
    before = home(client).get_data(as_text=True)
    assert "Concert in Palermo at noon." not in before and 'class="capital-name"' not in before
    at(AFTER)
    html = home(client).get_data(as_text=True)
    assert "Capital of Living Together 2031" in html and ">Palermo<" in html
    assert "Concert in Palermo at noon." in html and "Programme for 16 May" in html
    assert "Concert à Palermo à midi." in home(client, "fr").get_data(as_text=True)


def test_the_countdown_is_rendered_on_the_server_and_changes_at_midnight_utc(client, at):
    at(datetime(2031, 5, 13, 23, 59, 30, tzinfo=UTC))
    first = home(client)
    assert "16 May is in 3 days." in first.get_data(as_text=True)
    assert first.cache_control.max_age <= 30  # browsers and proxies do not keep it past midnight either
    assert home(client).headers["X-Page-Cache"] == "hit"
    at(datetime(2031, 5, 14, 0, 0, 1, tzinfo=UTC))
    later = home(client)
    assert later.headers["X-Page-Cache"] == "miss"
    assert "16 May is in 2 days." in later.get_data(as_text=True)
    at(datetime(2031, 5, 15, 12, tzinfo=UTC))
    assert "16 May is in 1 day." in home(client).get_data(as_text=True)
    at(datetime(2031, 5, 16, 8, tzinfo=UTC))
    assert "Today is 16 May" in home(client).get_data(as_text=True)
    at(datetime(2031, 5, 17, 8, tzinfo=UTC))
    assert "16 May is in 365 days." in home(client).get_data(as_text=True)
