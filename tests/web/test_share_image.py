"""The announcement's share picture: 1200×630 PNG per language, public with the result, laid out per script."""

import io
from pathlib import Path

from PIL import Image

from capital.public import clock
from capital.share_image import HEIGHT, MARGIN, WIDTH, BACKGROUND, has_shaping
from tests.public_data import AFTER, BEFORE, make_counted_cycle

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def _inked_columns(image: Image.Image, top: int, bottom: int) -> tuple[int, int]:
    """The first and last columns of the band [top, bottom) holding anything but the background."""
    band = image.crop((0, top, WIDTH, bottom)).convert("RGB")
    background = Image.new("RGB", band.size, BACKGROUND)
    from PIL import ImageChops

    box = ImageChops.difference(band, background).getbbox()
    assert box is not None, "nothing drawn in the band"
    return box[0], box[2]


def test_the_share_picture_is_public_with_the_result_in_every_language(client, db, make_city, monkeypatch):
    make_counted_cycle(db, make_city)
    monkeypatch.setattr(clock, "now", lambda: BEFORE)
    assert client.get("/2031/share-en.png").status_code == 404
    page = client.get("/2031", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "og:image" not in page

    monkeypatch.setattr(clock, "now", lambda: AFTER)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pictures = {}
    for locale in ("en", "fr", "de", "es", "ar", "zh", "ru"):
        response = client.get(f"/2031/share-{locale}.png")
        assert response.status_code == 200 and response.mimetype == "image/png"
        image = Image.open(io.BytesIO(response.data))
        assert (image.format, image.size) == ("PNG", (WIDTH, HEIGHT)) == ("PNG", (1200, 630))
        pictures[locale] = response.data
        if locale in ("ar", "zh"):
            (ARTIFACTS / f"share-image-{locale}.png").write_bytes(response.data)
    assert len(set(pictures.values())) == 7  # each says it in its own language
    assert client.get("/2031/share-zh.png").data == pictures["zh"]  # the same bytes every time
    page = client.get("/2031", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<meta property="og:image" content="http://127.0.0.1:5000/2031/share-fr.png">' in page
    assert '<meta name="twitter:card" content="summary_large_image">' in page


def test_arabic_is_shaped_and_set_from_the_right(client, db, make_city, monkeypatch):
    assert has_shaping()  # libraqm with FriBiDi: Arabic letters join, lines read from the right
    make_counted_cycle(db, make_city)
    monkeypatch.setattr(clock, "now", lambda: AFTER)
    english = Image.open(io.BytesIO(client.get("/2031/share-en.png").data))
    arabic = Image.open(io.BytesIO(client.get("/2031/share-ar.png").data))
    first, last = _inked_columns(english, 140, 220)  # the title line
    assert abs(first - MARGIN) <= 8 and last < WIDTH - MARGIN
    first, last = _inked_columns(arabic, 140, 220)
    assert abs(last - (WIDTH - MARGIN)) <= 8 and first > MARGIN


def test_the_year_page_shows_where_the_capital_is(client, db, make_city, monkeypatch):
    cycle = make_counted_cycle(db, make_city)
    cycle.capital_city.latitude, cycle.capital_city.longitude = 38.1157, 13.3615
    db.session.commit()
    monkeypatch.setattr(clock, "now", lambda: BEFORE)
    assert 'id="capital-map"' not in client.get("/2031").get_data(as_text=True)
    monkeypatch.setattr(clock, "now", lambda: AFTER)
    page = client.get("/2031", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<title id="capital-map-title">Where Palermo is</title>' in page
    assert page.count('<circle cx=') >= 1 and 'aria-label="Palermo"' in page
