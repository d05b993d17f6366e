"""The exhibition export: a year's announcement as a self-contained static bundle (docs/public.md).

``DIR/index.html`` lists the languages; ``DIR/<locale>/index.html`` is the year page in that
language; ``DIR/static/`` holds the style sheets and ``DIR/images/`` the host's images from
its dossier and ``DIR/records/`` the record of the designation in every language (PDF). Every link is relative and nothing refers to another site, so the bundle opens
from ``file://`` or any static host, and no request leaves it.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale

from capital.config import LOCALES
from capital.i18n import _
from capital.public.record import record_files
from capital.public.results import year_context
from capital.services import public
from capital.uploads import FileStore

STYLE_SHEETS = ("capital.css", "public.css")


class ExportRefused(Exception):
    """The year can't be exported (no cycle, or its result not public yet)."""


def export_exhibition(year: int, target: Path, *, now: datetime) -> list[Path]:
    """Write the bundle of ``year`` into ``target``; returns the files written.

    Refused before the cycle's announcement time: the bundle shows the result.
    """
    cycle = public.cycle_for_year(year)
    if cycle is None:
        raise ExportRefused(f"There is no cycle for {year}.")
    if not public.is_result_public(cycle, now):
        raise ExportRefused(f"The result of {year} is not public yet: it can be exported from its announcement on.")
    target = Path(target)
    written = []
    for name in STYLE_SHEETS:
        written.append(_copy(Path(current_app.static_folder) / name, target / "static" / name))
    nomination = public.capital_nomination(cycle, now)
    store = FileStore(current_app.config["UPLOAD_DIR"])
    images = []
    for number, attachment in enumerate(a for a in (nomination.attachments if nomination else [])
                                        if a.kind == "image"):
        path = f"images/{number + 1}{Path(attachment.filename).suffix.lower()}"
        written.append(_copy(store.path(attachment.storage_key), target / path))
        images.append({"path": path, "attachment": attachment})
    records = record_files(cycle, now)
    for name, content in records.items():
        written.append(_write_bytes(target / "records" / name, content))
    titles = {}
    for locale in LOCALES:
        with current_app.test_request_context(f"/{year}"), force_locale(locale):
            context = year_context(cycle, year, now)
            titles[locale] = context["share_title"]
            html = render_template("exhibition/year.html", **context, has_records=bool(records), images=[
                {"path": image["path"], "alt": _("Image %(number)s from the dossier of %(city)s", number=i + 1,
                                                 city=context["capital"].name)} for i, image in enumerate(images)])
        written.append(_write(target / locale / "index.html", html))
    with current_app.test_request_context("/"), force_locale("en"):
        written.append(_write(target / "index.html", render_template("exhibition/index.html", titles=titles)))
    return written


def _copy(source: Path, destination: Path) -> Path:
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, destination)
    return destination


def _write_bytes(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
