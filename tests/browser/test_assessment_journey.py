"""The panel assesses: an invited expert at 390 px in Spanish, a board member keyboard-only in Arabic;
after the deadline both compare. Every new page passes axe-core for every role, in English and Arabic,
at 1280 and 390 px."""

from __future__ import annotations

from datetime import timedelta

import pytest

from capital.domain.nominations import NominationState
from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.models import Nomination
from capital.models.types import utcnow
from capital.services.criteria import cycle_criteria, give_criteria
from tests.browser.test_accessibility import AXE, axe_context, check_page, sideways_scroll
from tests.browser.test_nomination_journey import sign_in


@pytest.fixture
def panel_world(db, make_cycle, make_city, make_user):
    now = utcnow()
    cycle = make_cycle(Phase.ASSESSMENT, close_in=timedelta(days=-5), has_assessment=True,
                       assessment_open_dt=now - timedelta(days=4), assessment_close_dt=now + timedelta(days=5))
    give_criteria(cycle)
    nominations = []
    for host in ("Lyon", "Venlo"):
        city = make_city(host)
        nominations.append(Nomination(cycle_id=cycle.id, nominating_city_id=city.id, host_city_id=city.id,
                                      title=f"{host} together", state=NominationState.ELIGIBLE))
    db.session.add_all(nominations)
    db.session.commit()
    people = {"expert": make_user(Role.ASSESSOR, name="Ana Experta", locale="es", email="expert@capital.example"),
              "board": make_user(Role.BOARD, name="عضو المجلس", locale="ar", email="board@capital.example"),
              "secretariat": make_user(Role.SECRETARIAT, email="secretariat@capital.example")}
    return {"cycle": cycle, "nominations": nominations, "criteria": cycle_criteria(cycle), "people": people}


def close_assessment(db, world):
    cycle = world["cycle"]
    cycle.assessment_close_dt = utcnow() - timedelta(seconds=1)
    cycle.phase = Phase.ASSESSED
    db.session.commit()


def test_an_expert_assesses_at_390_px_in_spanish(panel_world, live_server, new_page, screenshot, db):
    page = new_page("es", width=390, height=844)
    sign_in(page, live_server, panel_world["people"]["expert"].email)
    page.goto(f"{live_server}/assessment/")
    assert "Evaluación de los expedientes" in page.inner_text("h1")
    page.click("text=Lyon")
    for number, nomination in enumerate(panel_world["nominations"]):
        assert sideways_scroll(page) <= 0
        for criterion in panel_world["criteria"]:
            page.fill(f"#score_{criterion.id}", "4" if number == 0 else "2")
            page.fill(f"#note_{criterion.id}", f"Nota sobre {nomination.title}")
        screenshot(page, f"dossier-{number + 1}")
        page.click("#save_next" if number == 0 else "#save")
        page.wait_for_load_state()
        assert "Se guardó su borrador." in page.inner_text("main")
    page.goto(f"{live_server}/assessment/submit")
    page.click("#submit")
    page.wait_for_load_state()
    assert "Su evaluación fue enviada." in page.inner_text("main")
    close_assessment(db, panel_world)
    page.goto(f"{live_server}/assessment/compare")
    text = page.inner_text("main")
    assert "media 4,0 · mediana 4 · dispersión 4–4" in text and "Ana Experta" in text
    assert sideways_scroll(page) <= 0
    screenshot(page, "comparison")


def test_a_board_member_assesses_keyboard_only_in_arabic(panel_world, live_server, new_page, db):
    page = new_page("ar")
    sign_in(page, live_server, panel_world["people"]["board"].email)
    first = panel_world["criteria"][0]
    page.goto(f"{live_server}/assessment/dossiers/{panel_world['nominations'][0].id}")
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.focus(f"#score_{first.id}")
    page.keyboard.type("5")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == f"note_{first.id}"
    page.keyboard.type("برنامج قوي")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == f"score_{panel_world['criteria'][1].id}"
    page.keyboard.type("9")  # off the scale
    page.focus("#save")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the summary's link to the field at fault
    page.wait_for_timeout(100)
    second = panel_world["criteria"][1].id
    assert page.evaluate("document.activeElement.id") == f"score_{second}"
    assert page.input_value(f"#note_{first.id}") == "برنامج قوي"  # nothing typed was lost
    page.keyboard.press("Control+A")
    page.keyboard.type("3")
    page.focus("#save")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.input_value(f"#score_{first.id}") == "5" and page.input_value(f"#score_{second}") == "3"


ROLE_PAGES = {
    "expert": lambda w: ["/assessment/", f"/assessment/dossiers/{w['nominations'][0].id}", "/assessment/submit",
                         "/review/board", "/board/vote/conflict"],
    "board": lambda w: ["/assessment/", f"/assessment/dossiers/{w['nominations'][0].id}", "/assessment/submit",
                        "/board/"],
    "secretariat": lambda w: ["/assessment/", f"/secretariat/cycles/{w['cycle'].id}/criteria",
                              f"/secretariat/cycles/{w['cycle'].id}/criteria/new",
                              f"/secretariat/cycles/{w['cycle'].id}/criteria/{w['criteria'][0].id}"],
}


@pytest.mark.parametrize("locale", ["en", "ar"])
@pytest.mark.parametrize("role", ["expert", "board", "secretariat"])
def test_every_assessment_page_passes_axe_and_reflows(role, locale, panel_world, live_server, browser, db):
    assert AXE.is_file(), "run `make browser` (it installs axe-core from the npm registry)"
    person = panel_world["people"][role]
    person.locale = locale
    db.session.commit()
    context, page = axe_context(browser, locale)
    try:
        sign_in(page, live_server, person.email)
        problems: list[str] = []
        for url in ROLE_PAGES[role](panel_world):
            response = page.goto(f"{live_server}{url}")
            assert response.status == 200, url
            check_page(page, url, problems)
        if role != "secretariat":  # a field error, then the submitted state and the comparison
            page.goto(f"{live_server}/assessment/dossiers/{panel_world['nominations'][0].id}")
            page.fill(f"#score_{panel_world['criteria'][0].id}", "9")
            page.click("#save")
            page.wait_for_load_state()
            check_page(page, "dossier (refused)", problems)
            page.goto(f"{live_server}/assessment/submit")
            page.click("#submit")
            page.wait_for_load_state()
            check_page(page, "submit (incomplete)", problems)
            for nomination in panel_world["nominations"]:
                page.goto(f"{live_server}/assessment/dossiers/{nomination.id}")
                for criterion in panel_world["criteria"]:
                    page.fill(f"#score_{criterion.id}", "3")
                    page.fill(f"#note_{criterion.id}", "Note")
                page.click("#save")
                page.wait_for_load_state()
            page.goto(f"{live_server}/assessment/submit")
            page.click("#submit")
            page.wait_for_load_state()
            check_page(page, "dashboard (submitted)", problems)
        close_assessment(db, panel_world)
        if role != "secretariat":
            response = page.goto(f"{live_server}/assessment/compare")
            assert response.status == 200
            check_page(page, "/assessment/compare", problems)
        else:
            assert page.goto(f"{live_server}/assessment/compare").status == 200
            check_page(page, "/assessment/compare", problems)
        assert not problems, "\n".join(problems)
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_the_dossier_form_with_its_criteria_passes_axe_and_reflows(locale, live_server, browser, db, make_cycle,
                                                                   make_city, make_user):
    from capital.services import nominations

    cycle = make_cycle(Phase.NOMINATIONS_OPEN, has_assessment=True)
    give_criteria(cycle)
    city = make_city("Venlo", country="NL", timezone="Europe/Amsterdam")
    rep = make_user(Role.REPRESENTATIVE, city=city, locale=locale)
    draft = nominations.start_nomination(cycle, city, city, actor=rep, now=utcnow())
    db.session.commit()
    context, page = axe_context(browser, locale)
    try:
        sign_in(page, live_server, rep.email)
        page.goto(f"{live_server}/city/nominations/{draft.id}/edit")
        page.click("details.criteria-box summary")
        assert page.locator("details.criteria-box dl.criteria dt").count() == 7
        problems: list[str] = []
        check_page(page, "dossier form with criteria", problems)
        assert not problems, "\n".join(problems)
    finally:
        context.close()
