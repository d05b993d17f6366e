"""Every supported locale is fully translated, and the catalogs hold every string of the code."""

import subprocess
import sys

import pytest
from babel.messages.pofile import read_po

from capital.config import ROOT
from capital.domain.localisation import LOCALES


def _catalog(locale):
    with (ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """What `pybabel extract` finds in the code today."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
                    "-k", "N_", "--no-location", "-o", str(pot), "."], check=True, cwd=ROOT,
                   capture_output=True)
    with pot.open("rb") as handle:
        return {message.id if isinstance(message.id, str) else message.id[0]
                for message in read_po(handle) if message.id}


@pytest.mark.parametrize("locale", LOCALES)
def test_locale_is_fully_translated(locale):
    catalog = _catalog(locale)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        elif not all(strings):
            problems.append(f"untranslated: {message.id!r}")
        for error in message.check(catalog):
            problems.append(f"{message.id!r}: {error}")
    assert problems == []


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_holds_every_string_of_the_code(locale, extracted):
    ids = {message.id if isinstance(message.id, str) else message.id[0] for message in _catalog(locale) if message.id}
    missing = sorted(extracted - ids)
    assert missing == [], "run `flask --app wsgi capital translations update` and translate"
