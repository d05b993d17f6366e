"""Two representatives of one city edit one dossier in two browsers: the second save is refused at the top
of the form, keeps what was typed, says who saved in between and what changed; saving again goes through."""

from capital.domain.roles import Role
from capital.models import Nomination
from capital.models.types import utcnow
from capital.services import nominations as service
from capital.services.dispatch import commit
from tests.browser.test_nomination_journey import sign_in


def test_two_people_edit_one_dossier_and_nothing_is_lost(live_server, new_page, screenshot, make_city, make_user,
                                                        make_cycle, db):
    city = make_city("Düsseldorf", country="DE", timezone="Europe/Berlin")
    alice = make_user(Role.REPRESENTATIVE, city=city, email="alice@duesseldorf.example", name="Alice Martin")
    bob = make_user(Role.REPRESENTATIVE, city=city, email="bob@duesseldorf.example", name="Bob Keller")
    cycle = make_cycle()
    nomination = service.start_nomination(cycle, city, city, actor=alice, now=utcnow())
    commit()
    edit = f"{live_server}/city/nominations/{nomination.id}/edit"

    alice_page, bob_page = new_page("en"), new_page("en", width=390, height=844)  # Bob is on his phone
    sign_in(alice_page, live_server, alice.email)
    sign_in(bob_page, live_server, bob.email)
    alice_page.goto(edit)
    bob_page.goto(edit)

    alice_page.fill("#title", "A long table on the Rhine")
    alice_page.fill("#partners", "Tonhalle")
    alice_page.click("#save")
    alice_page.wait_for_load_state()
    assert "Your dossier was saved" in alice_page.inner_text("main")

    bob_page.fill("#title", "Bob's title")
    bob_page.fill("#summary_en", "Bob's summary, typed at length on the tram.")
    bob_page.click("#save")
    bob_page.wait_for_load_state()
    summary = bob_page.locator(".error-summary")
    assert summary.count() == 1
    assert "Someone saved this dossier after you opened it" in summary.inner_text()
    assert bob_page.evaluate("document.activeElement.classList.contains('error-summary')")
    conflict = bob_page.locator("#conflict")
    assert "Alice Martin saved the dossier at" in conflict.inner_text()
    assert "A long table on the Rhine" in conflict.locator("tr", has_text="Title of the celebration").inner_text()
    assert "Tonhalle" in conflict.locator("tr", has_text="Partners").inner_text()
    assert bob_page.input_value("#title") == "Bob's title"
    assert bob_page.input_value("#summary_en") == "Bob's summary, typed at length on the tram."
    assert bob_page.input_value("#partners") == "Tonhalle"  # Bob had left it: Alice's value is taken in
    assert bob_page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    screenshot(bob_page, "refused-phone")
    db.session.expire_all()
    assert db.session.get(Nomination, nomination.id).title == "A long table on the Rhine"

    bob_page.click("#save")  # having seen Alice's changes, he keeps his title on purpose
    bob_page.wait_for_load_state()
    assert bob_page.locator(".error-summary").count() == 0
    assert "Your dossier was saved" in bob_page.inner_text("main")
    db.session.expire_all()
    saved = db.session.get(Nomination, nomination.id)
    assert saved.title == "Bob's title" and saved.partners == "Tonhalle"
    assert saved.texts[0].summary == "Bob's summary, typed at length on the tram."
