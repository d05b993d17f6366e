"""A reader in each of the seven languages: home, the announced year page and the archive,
screenshotted, checked with axe-core, Arabic mirrored; the exhibition bundle opens from disk."""

import subprocess

import pytest

from capital.config import LOCALES, ROOT
from capital.models import City
from capital.public import clock
from tests.public_data import AFTER, make_counted_cycle

AXE = ROOT / "build" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
PAGES = [("home", "/"), ("year", "/2031"), ("archive", "/archive")]


@pytest.fixture(scope="module")
def axe_source():
    """axe-core from the npm registry, installed where the Makefile's browser set-up puts it."""
    if not AXE.exists():
        subprocess.run(["npm", "install", "--prefix", str(AXE.parents[2]), "--no-audit", "--no-fund", "--silent",
                        "axe-core@4"], check=True, timeout=240)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def announced(db, make_city, monkeypatch):
    make_counted_cycle(db, make_city)
    for latin, (lat, lon) in {"Palermo": (38.1157, 13.3615), "Tunis": (36.8065, 10.1815)}.items():
        city = db.session.query(City).filter_by(name_latin=latin).one()
        city.latitude, city.longitude = lat, lon
    db.session.commit()
    monkeypatch.setattr(clock, "now", lambda: AFTER)


def serious_violations(page, axe_source):
    page.evaluate(axe_source)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
            if v["impact"] in ("serious", "critical")]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("locale", LOCALES)
def test_a_reader_visits_home_the_year_and_the_archive(live_server, new_page, screenshot, axe_source, announced,
                                                       locale):
    page = new_page(locale, width=400, height=850)  # most readers arrive on a phone
    for name, path in PAGES:
        page.goto(live_server + path)
        html = page.locator("html")
        assert html.get_attribute("lang") == locale
        assert html.get_attribute("dir") == ("rtl" if locale == "ar" else "ltr")
        screenshot(page, f"{locale}-{name}")
        assert serious_violations(page, axe_source) == [], (locale, path)
        # Reflow at 320 px: nothing wider than the screen but the tables and chart, which scroll.
        overflow = page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
        assert not overflow, (locale, path)
    page.goto(live_server + "/2031")
    assert page.locator("svg.chart title").first.text_content() != ""
    assert page.locator("table caption").count() >= 1


def test_arabic_mirrors_the_layout(live_server, new_page, announced):
    edges = {}
    for locale in ("en", "ar"):
        page = new_page(locale, width=1200, height=800)
        page.goto(live_server + "/2031")
        box = page.locator(".brand").bounding_box()
        edges[locale] = box["x"] + box["width"] / 2
        assert page.evaluate("getComputedStyle(document.body).direction") == ("rtl" if locale == "ar" else "ltr")
    assert edges["en"] < 600 < edges["ar"]


def test_the_exhibition_bundle_opens_from_disk_with_no_request_leaving_it(app, new_page, screenshot, announced,
                                                                          tmp_path):
    from capital.public.exhibition import export_exhibition

    export_exhibition(2031, tmp_path, now=AFTER)
    page = new_page("en")
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto((tmp_path / "index.html").as_uri())
    page.click("a[hreflang=ar]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("svg.chart").count() == 1
    assert page.evaluate("getComputedStyle(document.querySelector('.site-header')).display") == "flex"  # CSS loaded
    screenshot(page, "exhibition-ar")
    page.click("a[hreflang=zh]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh"
    assert requests and all(url.startswith("file://") for url in requests), requests
