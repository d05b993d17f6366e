"""The secretariat edits a cycle's criteria; the cities read them on the dossier form."""

import re
from datetime import UTC, datetime

import pytest

from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.models import Criterion
from capital.services.criteria import cycle_criteria, give_criteria

FRENCH_ONLY = {"name_fr": "Héritage du 16 mai", "description_fr": "Ce qui reste après la fête.",
               "low_label_fr": "Rien", "high_label_fr": "Durable", "scale_min": "0", "scale_max": "5", "weight": "2"}


@pytest.fixture
def cycle(make_cycle, db):
    cycle = make_cycle(Phase.NOMINATIONS_OPEN, has_assessment=True)
    give_criteria(cycle)
    db.session.commit()
    return cycle


@pytest.fixture
def secretariat(make_user, client):
    user = make_user(Role.SECRETARIAT)
    client.login(user.email)
    return user


def test_the_secretariat_sees_the_default_criteria(client, secretariat, cycle):
    page = client.get(f"/secretariat/cycles/{cycle.id}/criteria").get_data(as_text=True)
    assert page.count("Move up") == 7
    for name in ("Communicative city", "Inclusive city", "Capacity to deliver the 16 May celebration",
                 "Reach beyond the city"):
        assert name in page


def test_a_criterion_written_in_french_only_is_shown_to_a_german_reader_marked_as_french(
        client, secretariat, cycle, db):
    response = client.post(f"/secretariat/cycles/{cycle.id}/criteria/new", FRENCH_ONLY)
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(f"/secretariat/cycles/{cycle.id}/criteria", headers={"Accept-Language": "de"}).get_data(
        as_text=True)
    assert '<span lang="fr" dir="ltr">Héritage du 16 mai</span>' in page
    assert "Inklusive Stadt" in page  # the defaults exist in German: no mark


def test_a_criterion_without_a_name_is_refused_at_the_field(client, secretariat, cycle):
    page = client.post(f"/secretariat/cycles/{cycle.id}/criteria/new",
                       dict(FRENCH_ONLY, name_fr="", scale_max="0")).get_data(as_text=True)
    assert "There is a problem" in page
    assert '<a href="#name_fr">Give the criterion a name in this language.</a>' in page
    assert re.search(r'id="scale_max-error".*The scale runs from a lower to a higher whole number', page, re.S)
    assert len(cycle_criteria(cycle)) == 7


def test_once_assessment_has_opened_the_page_offers_no_change_and_a_post_is_refused(client, secretariat, cycle, db):
    cycle.phase = Phase.VOTING_OPEN
    db.session.commit()
    criterion = cycle_criteria(cycle)[0]
    page = client.get(f"/secretariat/cycles/{cycle.id}/criteria").get_data(as_text=True)
    assert "Move up" not in page
    assert "The criteria can't change once assessment has opened." in page
    response = client.post(f"/secretariat/cycles/{cycle.id}/criteria/{criterion.id}/remove", {})
    assert response.status_code == 302
    assert db.session.get(Criterion, criterion.id) is not None


def test_other_roles_cannot_edit_criteria(client, make_user, cycle):
    client.login(make_user(Role.BOARD).email)
    assert client.get(f"/secretariat/cycles/{cycle.id}/criteria").status_code == 403
    assert client.post(f"/secretariat/cycles/{cycle.id}/criteria/new", FRENCH_ONLY).status_code == 403


def test_the_dossier_form_shows_the_criteria_to_the_city(client, make_city, make_user, cycle):
    city = make_city("Venlo", country="NL", timezone="Europe/Amsterdam")
    client.login(make_user(Role.REPRESENTATIVE, city=city).email)
    response = client.post("/city/nominations/new", {"host_city_id": city.id})
    page = client.get(response.headers["Location"], headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "Cómo se evaluarán los expedientes: 7 criterios" in page
    assert "Diversidad e inclusión: una ciudad donde todos, sea cual sea su origen, tienen su lugar." in page


def test_a_cycle_without_assessment_shows_no_criteria_to_the_cities(client, make_city, make_user, cycle, db):
    cycle.has_assessment = False
    db.session.commit()
    city = make_city("Venlo", country="NL", timezone="Europe/Amsterdam")
    client.login(make_user(Role.REPRESENTATIVE, city=city).email)
    response = client.post("/city/nominations/new", {"host_city_id": city.id})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "How the dossiers will be assessed" not in page
    assert "Diversity and inclusion: a city where everyone" not in page
