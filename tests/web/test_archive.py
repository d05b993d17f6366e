"""The archive: every public capital since Córdoba 2019, listed and on a server-drawn world map."""

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from capital import maps
from capital.models import City
from capital.public import clock
from capital.services.demo import load_demo
from tests.public_data import AFTER, BEFORE, make_counted_cycle

SVG = "{http://www.w3.org/2000/svg}"


def world_map(html):
    return ET.fromstring(re.search(r'<svg[^>]*class="world-map".*?</svg>', html, re.S).group(0))


def test_the_demo_archive_shows_cordoba_2019_on_the_map(client, db, monkeypatch):
    load_demo(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    db.session.commit()
    monkeypatch.setattr(clock, "now", lambda: AFTER)
    html = client.get("/archive", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<a href="/2019"><strong>2019</strong> — <bdi>Córdoba</bdi> <span class="latin">(<bdi>Cordoba</bdi>)</span></a>, Spain' in html
    svg = world_map(html)
    links = svg.findall(f"{SVG}g/{SVG}a")
    assert [(a.get("href"), a.get("aria-label")) for a in links] == [("/2019", "Córdoba, 2019")]
    circle = links[0].find(f"{SVG}circle")
    # Córdoba lies in southern Spain: west of the map's middle meridian by a few degrees, north of the equator.
    x, y = float(circle.get("cx")), float(circle.get("cy"))
    assert (x, y) == maps.to_map(-4.7794, 37.8882)
    assert maps.WIDTH / 2 - 20 < x < maps.WIDTH / 2 and y < maps.to_map(0, 0)[1]
    # The countries are drawn from the vendored data, and no request leaves the site.
    assert len(svg.findall(f"{SVG}g/{SVG}path")) > 150
    assert "http" not in html.split('class="world-map"')[1].split("</svg>")[0].replace("http://www.w3.org/2000/svg", "")


def test_a_capital_joins_the_archive_at_its_announcement_time(client, db, make_city, monkeypatch):
    make_counted_cycle(db, make_city)
    palermo = db.session.query(City).filter_by(name_latin="Palermo").one()
    palermo.latitude, palermo.longitude = 38.1157, 13.3615
    db.session.commit()
    monkeypatch.setattr(clock, "now", lambda: BEFORE)
    before = client.get("/archive").get_data(as_text=True)
    assert "/2031" not in before and "Palermo" not in before
    monkeypatch.setattr(clock, "now", lambda: AFTER)
    after = client.get("/archive").get_data(as_text=True)
    assert '<a href="/2031"><strong>2031</strong> — <bdi>Palermo</bdi></a>' in after
    assert [a.get("href") for a in world_map(after).findall(f"{SVG}g/{SVG}a")] == ["/2031"]


def test_a_capital_without_coordinates_is_listed_but_not_placed(client, db, make_city, monkeypatch):
    make_counted_cycle(db, make_city)
    monkeypatch.setattr(clock, "now", lambda: AFTER)
    html = client.get("/archive").get_data(as_text=True)
    assert '<a href="/2031">' in html
    assert world_map(html).findall(f"{SVG}g/{SVG}a") == []


def test_the_projection_keeps_the_world_inside_the_map():
    for lon, lat in [(-180, 0), (180, 0), (0, 90), (0, maps.SOUTH), (179.9, 85)]:
        x, y = maps.to_map(lon, lat)
        assert 0 <= x <= maps.WIDTH and 0 <= y <= maps.HEIGHT


def _rings(d: str) -> list[list[tuple[int, int]]]:
    """A path of the outline (``M x,y l dx,dy … z`` per ring) as its rings of absolute points."""
    rings = []
    for ring in re.findall(r"M([^z]+)z", d):
        start, steps = ring.split("l")
        x, y = map(int, start.split(","))
        points = [(x, y)]
        for dx, dy in re.findall(r"(-?\d+),(-?\d+)", steps):
            x, y = x + int(dx), y + int(dy)
            points.append((x, y))
        rings.append(points)
    return rings


def test_the_outline_is_whole_pixels_inside_the_map_and_small():
    paths = maps.country_paths()
    # Natural Earth's 110m countries, less Antarctica: none lost to the rounding.
    assert len(paths) >= 170
    points = [point for d in paths for ring in _rings(d) for point in ring]
    assert len(points) > 5000
    # Inside the map (a ring that crosses the antimeridian may run past the east edge: the SVG clips it).
    assert all(0 <= x <= maps.WIDTH * 1.1 and 0 <= y <= maps.HEIGHT for x, y in points)
    # France's ring passes near Paris's place on the map.
    px, py = maps.to_map(2.35, 48.86)
    assert min(abs(x - px) + abs(y - py) for x, y in points) < 15
    assert sum(len(d) for d in paths) < 60_000  # bytes: the year page carries the map beside the count
