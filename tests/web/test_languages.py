"""Language choice: saved choice, then the browser; Arabic right to left; a switcher on every page."""

import pytest
from sqlalchemy import select

from capital.domain.localisation import LOCALES
from capital.domain.roles import Role
from capital.models import AuditEntry, Mail, User


def test_the_browser_language_is_used_when_nothing_was_chosen(client):
    page = client.get("/", headers={"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="fr" dir="ltr">' in page
    assert "Capitale du Vivre Ensemble" in page


def test_arabic_pages_are_right_to_left(client):
    page = client.get("/", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "عاصمة العيش معًا" in page


@pytest.mark.parametrize("locale", LOCALES)
def test_every_page_offers_every_language(client, locale):
    page = client.get("/account/login", headers={"Accept-Language": locale}).get_data(as_text=True)
    assert f'<html lang="{locale}"' in page
    assert 'action="/language"' in page
    for code in LOCALES:
        assert f'value="{code}"' in page


def test_a_visitor_choice_beats_the_browser(client):
    client.post("/language", {"locale": "de", "next": "/account/login"})
    page = client.get("/account/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="de"' in page and "Anmelden" in page


def test_a_signed_in_choice_is_saved_for_next_time(app, client, make_user, db):
    user = make_user(Role.SECRETARIAT)
    client.login(user.email)
    response = client.post("/language", {"locale": "ru", "next": "/secretariat/"})
    assert response.headers["Location"] == "/secretariat/"
    assert db.session.scalar(select(User.locale).where(User.id == user.id)) == "ru"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "account.settings_changed"))
    assert (entry.actor_id, entry.data["locale"]) == (user.id, "ru")
    # The real object, not the request's proxy to it (current_user).
    assert (entry.object_type, entry.object_id) == ("User", str(user.id))

    from tests.conftest import WebClient

    other_browser = WebClient(app.test_client())
    other_browser.login(user.email)
    page = other_browser.get("/secretariat/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="ru"' in page


def test_an_unknown_language_is_refused_and_nothing_changes(client):
    response = client.post("/language", {"locale": "xx"}, follow_redirects=True)
    assert "This language is not available." in response.get_data(as_text=True)
    assert '<html lang="en"' in client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_the_language_switch_does_not_redirect_elsewhere(client):
    response = client.post("/language", {"locale": "es", "next": "//evil.example/"})
    assert response.headers["Location"] == "/"


def test_mail_is_written_in_the_recipient_language(client, make_user, db):
    secretariat = make_user(Role.SECRETARIAT, locale="en")
    client.login(secretariat.email)
    client.post("/secretariat/invitations", {"email": "maire@ville.example", "name": "Anne", "role": int(Role.BOARD),
                                              "city_id": 0, "locale": "fr"})
    mail = db.session.scalar(select(Mail))
    assert mail.locale == "fr"
    assert mail.subject == "Vous êtes invité(e) à rejoindre Capital"
    assert "Bonjour Anne," in mail.body_text
    assert 'lang="fr"' in mail.body_html
