"""The secretariat's import page: a file checked first, then imported line by line; big files by a task
with a progress page that works without JavaScript and moves by itself with it; the export (issue 19, item 2)."""

import html
import io
import re

import pytest
from sqlalchemy import func, select

from capital.domain.roles import Role
from capital.models import City, ImportJob, Invitation
from capital.services import onboarding
from tests.services.test_onboarding import CITIES, PEOPLE


@pytest.fixture
def secretariat(client, make_user):
    person = make_user(Role.SECRETARIAT, email="secretariat@capital.example")
    client.login(person.email)
    return person


def upload(client, kind, data, name="cities.csv"):
    return client.post("/secretariat/onboarding", {"kind": kind, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def page_of(client, response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    return html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))


def test_a_file_is_checked_first_then_imported_and_a_second_time_changes_nothing(client, db, secretariat):
    checked = upload(client, "cities", CITIES)
    page = page_of(client, checked)
    assert "Nothing is stored yet." in page
    assert "To create: 3 · to update: 0 · unchanged: 0 · to invite: 0 · refused: 1." in page
    assert "Line 4, column “country”: This is not a known country code (ISO 3166-1, two letters such as DE)." in page
    assert db.session.scalar(select(func.count(City.id))) == 0

    action = re.search(r'action="(/secretariat/onboarding/\d+/import)"', page).group(1)
    imported = page_of(client, client.post(action))
    assert "Created: 3 · updated: 0 · unchanged: 0 · invited: 0 · refused: 1." in imported
    assert db.session.scalar(select(func.count(City.id))) == 3

    again = page_of(client, upload(client, "cities", CITIES))
    assert "To create: 0 · to update: 0 · unchanged: 3 · to invite: 0 · refused: 1." in again


def test_the_report_is_in_the_reader_s_language(client, db, secretariat):
    secretariat.locale = "ar"
    db.session.commit()
    page = page_of(client, upload(client, "cities", CITIES))
    assert "السطر 4، العمود «country»: هذا ليس رمز بلد معروفًا" in page


def test_a_file_that_cannot_be_read_says_why_and_offers_no_import(client, db, secretariat):
    page = page_of(client, upload(client, "cities", "name;pays\nx;y\n".encode("utf-16")))
    assert "The file is not UTF-8 text" in page
    assert "/import" not in re.sub(r'href="[^"]*"', "", page.split("<main", 1)[1])


def test_without_a_file_the_form_says_so_at_the_field(client, db, secretariat):
    response = client.post("/secretariat/onboarding", {"kind": "cities"}, content_type="multipart/form-data")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert 'class="error-summary"' in page and '<a href="#file">Choose the CSV file.</a>' in page


def test_people_are_invited_by_a_task_never_in_the_request(client, db, secretariat, make_city):
    make_city("Cordoba", country="ES", timezone="Europe/Madrid")
    page = page_of(client, upload(client, "people", PEOPLE, "people.csv"))
    assert "To create: 0 · to update: 0 · unchanged: 0 · to invite: 2 · refused: 1." in page
    action = re.search(r'action="(/secretariat/onboarding/\d+/import)"', page).group(1)
    response = client.post(action)
    job = db.session.scalar(select(ImportJob).order_by(ImportJob.id.desc()).limit(1))
    assert not job.is_dry_run
    done = page_of(client, response)  # the in-process task ran once the response was sent
    assert "invited: 2 · refused: 1." in done
    assert sorted(db.session.scalars(select(Invitation.email))) == ["ana@cordoba.es", "board@capital.example"]


def test_a_big_file_is_read_by_a_task_with_a_progress_page_that_works_without_javascript(client, db, secretariat):
    lines = [f"City {n},City {n},DE,Europe/Berlin,c{n}@city.example" for n in range(onboarding.BACKGROUND_LINES + 5)]
    data = ("name,name_latin,country,time_zone,email\n" + "\n".join(lines) + "\n").encode()
    job = onboarding.start_import("cities", "big.csv", data, dry_run=True, actor=secretariat, now=onboarding_now())
    db.session.commit()  # without dispatch's commit: the task is not started, so the job stays queued
    waiting = html.unescape(client.get(f"/secretariat/onboarding/{job.id}").get_data(as_text=True))
    assert "Reload this page to see how far it is" in waiting
    assert f'href="/secretariat/onboarding/{job.id}">Reload now</a>' in waiting
    assert re.search(r'<progress id="progress" max="305" value="0">', waiting)
    assert "0 of about 305 lines" in waiting

    onboarding.run_job(job.id, onboarding_now())
    done = html.unescape(client.get(f"/secretariat/onboarding/{job.id}").get_data(as_text=True))
    assert "<progress" not in done and "data-import-progress" not in done
    assert "To create: 305 ·" in done
    assert "Page 1 of 2" in done and "<td data-label=\"Line\">201</td>" in done and ">202</td>" not in done
    second = html.unescape(client.get(f"/secretariat/onboarding/{job.id}?page=2").get_data(as_text=True))
    assert "<td data-label=\"Line\">202</td>" in second  # line 1 is the header


def test_the_export_downloads_the_import_s_columns(client, db, secretariat):
    onboarding.run_import("cities", CITIES, dry_run=False, actor=secretariat, now=onboarding_now())
    db.session.commit()
    response = client.get("/secretariat/onboarding/cities.csv")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.splitlines()[0] == ",".join(onboarding.rows.CITY_COLUMNS)
    assert "Córdoba,Cordoba,ES,Europe/Madrid,alcaldia@cordoba.es,,37.88,-4.77,acknowledged,2019-08-31,Isabel Ambrosio" in text


def test_only_the_secretariat_reaches_the_import(client, db, make_user, make_city):
    rep = make_user(Role.REPRESENTATIVE, city=make_city(), email="rep@city.example")
    client.login(rep.email)
    for url in ("/secretariat/onboarding", "/secretariat/onboarding/cities.csv"):
        assert client.get(url).status_code in (403, 404)
    assert upload(client, "cities", CITIES).status_code in (403, 404)


def onboarding_now():
    from tests.conftest import NOW

    return NOW
