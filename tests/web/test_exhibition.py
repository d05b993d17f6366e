"""The exhibition export: every language, relative links only, nothing before the announcement."""

import io
import re
from datetime import UTC, datetime

import pytest
from PIL import Image

from capital.config import LOCALES
from capital.models import Attachment, Nomination
from capital.public.exhibition import ExportRefused, export_exhibition
from capital.services.demo import load_demo
from capital.uploads import FileStore
from tests.public_data import AFTER, BEFORE, WINNER, make_counted_cycle

REFERENCE = re.compile(r'(?:href|src)="([^"]*)"')


def add_image(app, db, host_name):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "PNG")
    key = FileStore(app.config["UPLOAD_DIR"]).save(buffer.getvalue())
    nomination = db.session.query(Nomination).filter(Nomination.title.startswith(host_name)).one()
    db.session.add(Attachment(nomination_id=nomination.id, kind="image", storage_key=key, filename="square.PNG",
                              content_type="image/png", size=len(buffer.getvalue()), sha256="0" * 64))
    db.session.commit()


def test_the_bundle_has_every_language_with_relative_links_only(app, db, make_city, tmp_path):
    make_counted_cycle(db, make_city)
    add_image(app, db, WINNER)
    written = export_exhibition(2031, tmp_path, now=AFTER)
    assert {p.relative_to(tmp_path).as_posix() for p in written} == {
        "index.html", "static/capital.css", "static/public.css", "images/1.png",
        *(f"{locale}/index.html" for locale in LOCALES), *(f"records/record-{locale}.pdf" for locale in LOCALES)}
    assert (tmp_path / "records" / "record-ar.pdf").read_bytes().startswith(b"%PDF-")
    index = (tmp_path / "index.html").read_text()
    assert [ref for ref in REFERENCE.findall(index) if ref.endswith("index.html")] == \
        [f"{locale}/index.html" for locale in LOCALES]
    for locale in LOCALES:
        page = (tmp_path / locale / "index.html").read_text()
        assert f'<html lang="{locale}" dir="{"rtl" if locale == "ar" else "ltr"}">' in page
        assert "<svg" in page and "<bdi>Palermo</bdi>" in page and 'src="../images/1.png"' in page
        for reference in REFERENCE.findall(page):
            assert not reference.startswith(("/", "http:", "https:", "//")), reference
            assert (tmp_path / locale / reference.split("#")[0]).resolve().exists() or reference.startswith("#")
        assert "csrf" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "Palermo a remporté le décompte." in (tmp_path / "fr" / "index.html").read_text()


def test_nothing_is_exported_before_the_announcement_time(db, make_city, tmp_path):
    make_counted_cycle(db, make_city)
    with pytest.raises(ExportRefused):
        export_exhibition(2031, tmp_path, now=BEFORE)
    assert list(tmp_path.iterdir()) == []


def test_the_command_exports_the_demo_archive(app, db, tmp_path):
    load_demo(datetime(2026, 11, 24, 9, tzinfo=UTC))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["capital", "export-exhibition", "2019", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "Córdoba" in (tmp_path / "out" / "es" / "index.html").read_text()
    refused = app.test_cli_runner().invoke(args=["capital", "export-exhibition", "1990", str(tmp_path / "none")])
    assert refused.exit_code != 0 and "There is no cycle for 1990." in refused.output
