"""The secretariat's member cities and people: forms, Declaration signatures, roles and lists."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, insert, select

from capital.domain.membership import CityStatus, SignatureForm
from capital.domain.roles import Role
from capital.models import AuditEntry, BoardTerm, City, DeclarationSignature, User
from tests.conftest import NOW

CITY = {"name": "Córdoba", "name_latin": "Cordoba", "country_code": "ES", "timezone": "Europe/Madrid",
        "contact_email": "Alcaldia@Cordoba.example", "population": "325000", "status": int(CityStatus.MEMBER)}


@pytest.fixture
def secretariat(make_user, client):
    user = make_user(Role.SECRETARIAT)
    client.login(user.email)
    return user


def _count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def _pages(city_id, user_id):
    return ["/secretariat/cities", "/secretariat/cities/new", f"/secretariat/cities/{city_id}",
            "/secretariat/people", f"/secretariat/people/{user_id}"]


def test_every_city_and_person_page_opens_for_the_secretariat(client, secretariat, make_city):
    city = make_city()
    for url in _pages(city.id, secretariat.id):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", [Role.BOARD, Role.REPRESENTATIVE])
def test_city_and_person_pages_and_actions_are_refused_to_other_roles(client, make_user, make_city, db, role):
    city = make_city()
    user = make_user(role, city=city if role == Role.REPRESENTATIVE else None)
    client.login(user.email)
    for url in _pages(city.id, user.id):
        assert client.get(url).status_code == 403, url
    posts = [("/secretariat/cities/new", CITY), (f"/secretariat/cities/{city.id}", CITY | {"name": "Renamed"}),
             (f"/secretariat/cities/{city.id}/signatures", {"form": 1, "signed_on": "2020-01-01",
                                                            "signatory_name": "X"}),
             (f"/secretariat/people/{user.id}/roles", {"role": int(Role.SECRETARIAT)}),
             (f"/secretariat/people/{user.id}/board-terms", {"starts_on": "2030-01-01", "ends_on": "2031-01-01"}),
             (f"/secretariat/people/{user.id}/deactivate", {})]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    db.session.expire_all()
    assert db.session.get(City, city.id).name != "Renamed"
    assert db.session.get(User, user.id).roles == {role}
    assert _count(db, City) == 1


def test_a_city_is_created_and_audited(client, secretariat, db):
    response = client.post("/secretariat/cities/new", CITY)
    assert response.status_code == 302, response.get_data(as_text=True)
    city = db.session.scalar(select(City))
    assert (city.name, city.name_latin, city.country_code, city.timezone) == ("Córdoba", "Cordoba", "ES",
                                                                              "Europe/Madrid")
    assert city.contact_email == "alcaldia@cordoba.example" and city.population == 325000
    assert city.status == CityStatus.MEMBER
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "city.created"))
    assert entry.actor_id == secretariat.id and entry.object_id == str(city.id)


@pytest.mark.parametrize("field,value,message", [
    ("country_code", "XX", "This is not a known country code."),
    ("country_code", "EU", "This is not a known country code."),
    ("timezone", "Mars/Olympus_Mons", "This is not a known time zone."),
])
def test_an_unknown_country_or_time_zone_is_refused(client, secretariat, db, field, value, message):
    response = client.post("/secretariat/cities/new", CITY | {field: value})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _count(db, City) == 0


def test_the_country_list_speaks_the_readers_language(client, secretariat, db):
    secretariat.locale = "de"
    db.session.commit()
    page = client.get("/secretariat/cities/new").get_data(as_text=True)
    assert ">Spanien (ES)</option>" in page


def test_a_city_is_edited_and_its_status_change_recorded(client, secretariat, make_city, db):
    city = make_city("Venlo", country="NL", status=CityStatus.APPLICANT)
    data = CITY | {"name": "Venlo", "name_latin": "", "country_code": "NL", "timezone": "Europe/Amsterdam"}
    assert client.post(f"/secretariat/cities/{city.id}", data).status_code == 302
    db.session.expire_all()
    city = db.session.get(City, city.id)
    assert city.status == CityStatus.MEMBER and city.name_latin == "Venlo"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "city.updated"))
    assert entry.data["changes"]["status"] == ["APPLICANT", "MEMBER"]


def test_a_declaration_signature_is_recorded(client, secretariat, make_city, db):
    city = make_city("Montréal", country="CA", signed=False)
    response = client.post(f"/secretariat/cities/{city.id}/signatures", {
        "form": int(SignatureForm.ACKNOWLEDGED), "signed_on": "2019-08-31", "signatory_name": "Ada Moreau",
        "signatory_title": "Councillor", "place": "Düsseldorf"})
    assert response.status_code == 302
    signature = db.session.scalar(select(DeclarationSignature))
    assert (signature.form, signature.signed_on, signature.place) == (SignatureForm.ACKNOWLEDGED, date(2019, 8, 31),
                                                                      "Düsseldorf")
    page = client.get(f"/secretariat/cities/{city.id}").get_data(as_text=True)
    assert "Ada Moreau, Councillor" in page
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "city.signature_recorded"))


def test_a_signature_dated_in_the_future_is_refused(client, secretariat, make_city, db):
    city = make_city(signed=False)
    response = client.post(f"/secretariat/cities/{city.id}/signatures", {
        "form": int(SignatureForm.COMMITTED), "signed_on": (NOW.date() + timedelta(days=3)).isoformat(),
        "signatory_name": "Mayor"})
    assert response.status_code == 200
    assert "The signature date can&#39;t be in the future." in response.get_data(as_text=True)
    assert _count(db, DeclarationSignature) == 0


@pytest.fixture
def many_cities(db):
    """3 000 cities in one bulk insert: 600 per country, statuses in turn."""
    countries = ["DE", "FR", "ES", "IT", "NL"]
    rows = [{"name": f"Town {n:04d}", "name_latin": f"Town {n:04d}", "country_code": countries[n % 5],
             "timezone": "Europe/Berlin", "contact_email": f"town{n}@city.example",
             "status": list(CityStatus)[n % 4]} for n in range(1, 3001)]
    db.session.execute(insert(City), rows)
    db.session.commit()


ROW = re.compile(r'<td><a href="/secretariat/cities/\d+">([^<]+)</a>')


def test_the_city_list_pages_sorts_and_filters_in_the_database(client, secretariat, many_cities, db):
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        page = client.get("/secretariat/cities").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    names = ROW.findall(page)
    assert len(names) == 50 and names[0] == "Town 0001" and names[-1] == "Town 0050"
    assert "3000 results" in page
    assert len(statements) < 15  # no query per row

    names = ROW.findall(client.get("/secretariat/cities?sort=name&dir=desc&page=2").get_data(as_text=True))
    assert names[0] == "Town 2950"

    page = client.get(f"/secretariat/cities?status={int(CityStatus.MEMBER)}&country=FR&sort=name").get_data(
        as_text=True)
    names = ROW.findall(page)
    # Members are n % 4 == 1, France is n % 5 == 1: n % 20 == 1, 150 cities.
    assert "150 results" in page and len(names) == 50 and names[0] == "Town 0001" and names[1] == "Town 0021"

    page = client.get("/secretariat/cities?q=town 299").get_data(as_text=True)
    assert ROW.findall(page) == [f"Town {n}" for n in range(2990, 3000)]


def test_a_person_page_manages_roles_terms_and_the_account(client, secretariat, make_user, db):
    person = make_user(Role.REPRESENTATIVE, name="Rosa Member")
    url = f"/secretariat/people/{person.id}"
    assert "Rosa Member" in client.get("/secretariat/people").get_data(as_text=True)

    assert client.post(f"{url}/board-terms", {"starts_on": "2030-01-01", "ends_on": "2029-01-01"}).status_code == 200
    assert _count(db, BoardTerm) == 0
    assert client.post(f"{url}/board-terms", {"starts_on": "2030-01-01", "ends_on": "2032-12-31"}).status_code == 302
    assert client.post(f"{url}/roles", {"role": int(Role.SECRETARIAT)}).status_code == 302
    assert client.post(f"{url}/roles/{int(Role.REPRESENTATIVE)}/revoke").status_code == 302
    db.session.expire_all()
    person = db.session.get(User, person.id)
    assert person.roles == {Role.BOARD, Role.SECRETARIAT}  # a board term makes a board member
    assert [(t.starts_on, t.ends_on) for t in person.board_terms] == [(date(2030, 1, 1), date(2032, 12, 31))]
    page = client.get(url).get_data(as_text=True)
    assert "Board member" in page and "Secretariat" in page

    assert client.post(f"{url}/deactivate").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, person.id).is_active_account is False
    assert client.post(f"{url}/reactivate").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, person.id).is_active_account is True
    actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == str(person.id))))
    assert {"board_term.added", "role.granted", "role.revoked", "account.deactivated",
            "account.reactivated"} <= actions


def test_the_secretariat_cannot_lock_itself_out(client, secretariat, db):
    url = f"/secretariat/people/{secretariat.id}"
    page = client.post(f"{url}/deactivate", follow_redirects=True).get_data(as_text=True)
    assert "You can&#39;t deactivate your own account." in page
    page = client.post(f"{url}/roles/{int(Role.SECRETARIAT)}/revoke", follow_redirects=True).get_data(as_text=True)
    assert "You can&#39;t take away your own secretariat role." in page
    db.session.expire_all()
    user = db.session.get(User, secretariat.id)
    assert user.is_active_account and user.roles == {Role.SECRETARIAT}


def test_the_sorted_column_says_so_on_its_header_cell(client, secretariat, make_city):
    make_city("Venlo")
    page = client.get("/secretariat/cities?sort=country&dir=desc").get_data(as_text=True)
    assert re.search(r'<th scope="col" aria-sort="descending"><a href="[^"]*sort=country', page)
    assert page.count("aria-sort") == 1
    assert not re.search(r"<a [^>]*aria-sort", page)
    assert '<select id="status-filter" name="status">' in page and '<label for="country-filter">' in page
