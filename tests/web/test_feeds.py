"""The Atom feed of announcements, the iCalendar file of the current cycle, and share cards."""

import re
from datetime import datetime
from xml.etree import ElementTree as ET

from icalendar import Calendar

from capital.domain.phase import Phase
from capital.public import clock
from tests.public_data import AFTER, ANNOUNCEMENT, BEFORE, make_counted_cycle

ATOM = "{http://www.w3.org/2005/Atom}"


def test_the_feed_carries_an_announcement_only_from_its_announcement_time(client, db, make_city, monkeypatch):
    make_counted_cycle(db, make_city)
    monkeypatch.setattr(clock, "now", lambda: BEFORE)
    before = client.get("/feed.atom")
    assert before.status_code == 200 and before.mimetype == "application/atom+xml"
    assert ET.fromstring(before.data).findall(f"{ATOM}entry") == []

    monkeypatch.setattr(clock, "now", lambda: AFTER)
    feed = ET.fromstring(client.get("/feed.atom", headers={"Accept-Language": "fr"}).data)
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr"
    [entry] = feed.findall(f"{ATOM}entry")
    assert entry.find(f"{ATOM}title").text == "Palermo est la Capitale du Vivre Ensemble 2031."
    assert entry.find(f"{ATOM}link").get("href").endswith("/2031")
    assert datetime.fromisoformat(entry.find(f"{ATOM}updated").text) == ANNOUNCEMENT


def test_the_calendar_has_the_running_cycle_deadlines_and_the_celebration(client, make_cycle):
    cycle = make_cycle(Phase.NOMINATIONS_OPEN, year=2032)
    response = client.get("/calendar.ics", headers={"Accept-Language": "de"})
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    events = {str(e["uid"]): e for e in Calendar.from_ical(response.data).walk("VEVENT")}
    close = events["2032-nominations-close@127.0.0.1"]
    assert close.decoded("dtstart") == cycle.nominations_close_dt
    assert str(close["summary"]) == "Nominierungsfrist — Hauptstadt des Zusammenlebens 2032"
    celebration = events["2032-celebration@127.0.0.1"]
    assert celebration.decoded("dtstart") == datetime(2032, 5, 16).date()
    assert len(events) == 6  # five deadlines and 16 May


def test_home_and_year_pages_carry_share_cards(client, db, make_city, monkeypatch):
    make_counted_cycle(db, make_city)
    monkeypatch.setattr(clock, "now", lambda: AFTER)
    year = client.get("/2031", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<meta property="og:title" content="Capital de la Convivencia 2031">' in year
    assert '<meta property="og:description" content="Palermo es la Capital de la Convivencia 2031.">' in year
    # The announced year shows its share picture, in the reader's language, as a large card.
    assert '<meta name="twitter:card" content="summary_large_image">' in year
    assert '<meta property="og:image" content="http://127.0.0.1:5000/2031/share-es.png">' in year
    assert re.search(r'<meta property="og:url" content="http://[^"]+/2031">', year)
    home = client.get("/").get_data(as_text=True)
    assert '<meta property="og:description" content="Palermo is the Capital of Living Together 2031.">' in home
    assert '<meta name="twitter:card" content="summary">' in home
    monkeypatch.setattr(clock, "now", lambda: BEFORE)
    assert "Palermo" not in client.get("/").get_data(as_text=True)
