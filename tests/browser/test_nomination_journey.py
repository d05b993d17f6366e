"""In French: a representative files a nomination with the mayor's letter; the secretariat finds it eligible."""

from sqlalchemy import select

from capital.domain.nominations import NominationState
from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.models import Nomination
from tests.conftest import PASSWORD, pdf_bytes, second_factor_code


def sign_in(page, base, email, password=PASSWORD):
    """Sign in; with a second factor, type the authenticator app's code (setting the app up first if the
    person's role needs one and they have none), as a person with their phone would."""
    import pyotp
    from flask import current_app

    page.goto(f"{base}/account/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#submit")
    page.wait_for_load_state()
    if "/account/two-factor" in page.url:
        page.fill("#code", second_factor_code(current_app._get_current_object(), email))
        page.click("#submit")
        page.wait_for_load_state()
    elif "/account/security/app" in page.url:
        page.fill("#code", pyotp.TOTP(page.inner_text("#key").replace(" ", "")).now())
        page.click("#submit")
        page.wait_for_load_state()
        page.click("a.button.primary")  # past the recovery codes
        page.wait_for_load_state()


def test_a_representative_files_a_nomination_and_the_secretariat_finds_it_eligible(
        live_server, new_page, screenshot, make_city, make_user, make_cycle, db, tmp_path):
    city = make_city("Montréal", country="CA", timezone="America/Toronto")
    make_city("Venlo", country="NL", timezone="Europe/Amsterdam")
    rep = make_user(Role.REPRESENTATIVE, city=city, email="rep@montreal.example")
    secretariat = make_user(Role.SECRETARIAT, email="secretariat@capital.example")
    cycle = make_cycle()
    letter = tmp_path / "lettre-de-la-mairesse.pdf"
    letter.write_bytes(pdf_bytes())

    page = new_page("fr", width=400, height=850)  # a phone
    sign_in(page, live_server, rep.email)
    assert page.locator("html").get_attribute("lang") == "fr"
    page.goto(f"{live_server}/city/")
    screenshot(page, "1-tableau-de-bord")
    page.select_option("#host_city_id", label="Montréal")
    page.click("form[action$='/nominations/new'] [type=submit]")
    page.wait_for_url("**/edit")

    page.fill("#title", "Vivre ensemble sur le Saint-Laurent")
    page.fill("#summary_fr", "Une journée de portes ouvertes, de repas partagés et de musique dans chaque quartier.")
    page.fill("#programme_fr", "Matin : lieux de culte ouverts. Midi : grande tablée au Vieux-Port. Soir : concert.")
    page.check("input[name=themes][value='1']")
    page.check("input[name=themes][value='5']")
    page.fill("#expected_participants", "25000")
    page.fill("#partners", "Arrondissements, écoles, Observatoire")
    page.select_option("#budget_range", value="100k_250k")
    page.set_input_files("#letter", str(letter))
    screenshot(page, "2-dossier")
    page.click("#save")
    page.wait_for_load_state()
    assert page.locator(".flash-success").count() >= 1
    assert page.locator("ul.unmet li").count() == 0
    assert "lettre-de-la-mairesse.pdf" in page.content()
    screenshot(page, "3-dossier-enregistre")

    page.click("#continue_")  # "save and continue": a button inside the form, so nothing typed is lost
    page.wait_for_url("**/submit")
    screenshot(page, "4-confirmation")
    page.click("form button[type=submit].primary")
    page.wait_for_load_state()
    screenshot(page, "5-soumise")
    nomination = db.session.scalar(select(Nomination))
    assert nomination.state == NominationState.SUBMITTED

    cycle.phase = Phase.NOMINATIONS_CLOSED
    db.session.commit()

    office = new_page("fr")
    sign_in(office, live_server, secretariat.email)
    office.goto(f"{live_server}/review/")
    screenshot(office, "6-examen")
    office.click(f"a[href$='/review/{nomination.id}']")
    office.check("input[name=decision][value=eligible]")
    office.fill("#reason", "Dossier complet, lettre signée.")
    screenshot(office, "7-decision")
    office.click("#submit")
    office.wait_for_load_state()
    assert office.locator(".flash-success").count() == 1
    assert office.locator("html").get_attribute("lang") == "fr"
    assert "Capitale du Vivre Ensemble" in office.content()
    screenshot(office, "8-decision-enregistree")

    db.session.expire_all()
    assert db.session.get(Nomination, nomination.id).state == NominationState.ELIGIBLE
    page.goto(f"{live_server}/city/nominations/{nomination.id}")
    assert "Dossier complet, lettre signée." in page.content()
    screenshot(page, "9-ville-informee")
