"""Two people of one city edit one dossier: a change made from a stale version is refused, and nothing
either of them typed is lost (issue 19, item 4). Two sessions, on PostgreSQL."""

import html
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from capital.domain.nominations import NominationState
from capital.domain.roles import Role
from capital.models import Attachment, Nomination, NominationRevision
from tests.conftest import WebClient, at_once, pdf_bytes
from tests.web.test_nomination_pages import COMPLETE, save, start, upload

VERSION = re.compile(r'name="version" type="hidden" value="(\d+)"|type="hidden" name="version" value="(\d+)"'
                     r'|name="version"[^>]*value="(\d+)"')
STALE = "Someone saved this dossier after you opened it, so nothing of yours was saved yet."


@pytest.fixture
def city(make_city):
    return make_city("Düsseldorf", country="DE", timezone="Europe/Berlin")


@pytest.fixture
def alice(make_user, city):
    return make_user(Role.REPRESENTATIVE, city=city, email="alice@duesseldorf.example", name="Alice Martin")


@pytest.fixture
def bob(make_user, city):
    return make_user(Role.REPRESENTATIVE, city=city, email="bob@duesseldorf.example", name="Bob Keller")


@pytest.fixture
def cycle(make_cycle):
    return make_cycle()


def signed_in(app, user) -> WebClient:
    client = WebClient(app.test_client())
    client.login(user.email)
    return client


def version_on(page: str) -> str:
    match = VERSION.search(page)
    assert match, "the form carries no version"
    return next(group for group in match.groups() if group)


def open_dossier(client, nomination_id) -> str:
    return version_on(client.get(f"/city/nominations/{nomination_id}/edit").get_data(as_text=True))


def save_as(client, nomination_id, host_id, version, files=None, **fields):
    return save(client, nomination_id, host_id, dict(COMPLETE, version=version, **fields), files)


def test_a_stale_save_is_refused_keeping_what_was_typed_and_saying_who_saved_when_and_what_changed(
        app, db, alice, bob, city, cycle):
    as_alice, as_bob = signed_in(app, alice), signed_in(app, bob)
    nomination_id = start(as_alice, city.id)
    assert save_as(as_alice, nomination_id, city.id, open_dossier(as_alice, nomination_id),
                   title="Living together on the Rhine").status_code == 302
    alice_opened, bob_opened = open_dossier(as_alice, nomination_id), open_dossier(as_bob, nomination_id)
    assert alice_opened == bob_opened

    assert save_as(as_alice, nomination_id, city.id, alice_opened, title="A long table on the Rhine",
                   partners="Tonhalle").status_code == 302
    revision = db.session.scalar(select(NominationRevision).order_by(NominationRevision.version.desc()).limit(1))
    revision.saved_dt = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)  # 10:15 in Düsseldorf
    db.session.commit()

    refused = save_as(as_bob, nomination_id, city.id, bob_opened, title="Bob's own title",
                      summary_en="Bob wrote this summary at length.")
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 200
    summary = page.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert STALE in summary
    conflict = page.split('id="conflict"', 1)[1].split("</section>", 1)[0]
    assert "Alice Martin saved the dossier at 30 November 2026, 10:15" in conflict
    rows = re.findall(r"<tr><th scope=\"row\"[^>]*>([^<]+)</th>\s*<td[^>]*>([^<]*)</td>\s*<td[^>]*>([^<]*)</td>"
                      r"<td[^>]*>([^<]*)</td>", conflict)
    assert ("Title of the celebration", "Living together on the Rhine", "A long table on the Rhine",
            "You changed it too: your version is in the form. Choose which to keep.") in rows
    assert ("Partners", "Tonhalle, city districts, schools", "Tonhalle",
            "You had not changed it: the new value is now in your form.") in rows
    assert len(rows) == 2  # Bob's own changes are not "what changed"
    # What Bob typed is still in the form, with Alice's partners where he had typed nothing new; nothing stored.
    assert 'value="Bob\'s own title"' in page
    assert "Bob wrote this summary at length." in page
    assert re.search(r'<textarea[^>]*name="partners"[^>]*>\s*Tonhalle</textarea>', page)
    nomination = db.session.get(Nomination, nomination_id)
    assert nomination.title == "A long table on the Rhine"
    assert nomination.texts[0].summary == COMPLETE["summary_en"]

    # Having seen Alice's changes, Bob saves again from the version the refusal showed him.
    again = save_as(as_bob, nomination_id, city.id, version_on(page), title="Bob's own title", partners="Tonhalle")
    assert again.status_code == 302
    db.session.expire_all()
    nomination = db.session.get(Nomination, nomination_id)
    assert (nomination.title, nomination.partners) == ("Bob's own title", "Tonhalle")


def test_the_same_person_in_two_tabs_is_told_it_was_them(app, db, alice, city, cycle):
    as_alice = signed_in(app, alice)
    nomination_id = start(as_alice, city.id)
    first_tab = second_tab = open_dossier(as_alice, nomination_id)
    assert save_as(as_alice, nomination_id, city.id, first_tab, title="From the first tab").status_code == 302
    page = html.unescape(save_as(as_alice, nomination_id, city.id, second_tab, title="From the second tab")
                         .get_data(as_text=True))
    assert re.search(r"You saved the dossier at [^<]+, in another tab or window.", page)
    assert db.session.get(Nomination, nomination_id).title == "From the first tab"


def test_a_save_without_a_readable_version_is_refused(app, db, alice, city, cycle):
    as_alice = signed_in(app, alice)
    nomination_id = start(as_alice, city.id)
    for version in ("", "abc", "99"):
        response = save_as(as_alice, nomination_id, city.id, version, title="Typed")
        assert response.status_code == 200 and STALE in html.unescape(response.get_data(as_text=True))
    assert db.session.get(Nomination, nomination_id).title == ""


def test_a_file_chosen_with_a_stale_save_is_not_stored_and_must_be_chosen_again(app, db, alice, bob, city, cycle):
    as_alice, as_bob = signed_in(app, alice), signed_in(app, bob)
    nomination_id = start(as_alice, city.id)
    bob_opened = open_dossier(as_bob, nomination_id)
    assert save_as(as_alice, nomination_id, city.id, open_dossier(as_alice, nomination_id),
                   files={"letter": upload(pdf_bytes(), "alice.pdf")}).status_code == 302
    refused = save_as(as_bob, nomination_id, city.id, bob_opened, files={"letter": upload(pdf_bytes(2), "bob.pdf")})
    page = html.unescape(refused.get_data(as_text=True))
    assert STALE in page
    assert "Nothing was saved: choose “bob.pdf” again before saving." in page
    conflict = page.split('id="conflict"', 1)[1].split("</section>", 1)[0]
    assert "Letter of commitment" in conflict and "alice.pdf" in conflict
    assert [a.filename for a in db.session.scalars(select(Attachment))] == ["alice.pdf"]


def test_removing_a_file_from_a_stale_page_is_refused_and_says_who_saved(app, db, alice, bob, city, cycle):
    as_alice, as_bob = signed_in(app, alice), signed_in(app, bob)
    nomination_id = start(as_alice, city.id)
    assert save_as(as_alice, nomination_id, city.id, open_dossier(as_alice, nomination_id),
                   files={"image": upload(_png(), "square.png")}).status_code == 302
    image = db.session.scalar(select(Attachment))
    bob_page = as_bob.get(f"/city/nominations/{nomination_id}/edit").get_data(as_text=True)
    remove_version = re.search(r'/remove" class="inline">.*?name="version"[^>]*value="(\d+)"', bob_page, re.S).group(1)
    assert save_as(as_alice, nomination_id, city.id, open_dossier(as_alice, nomination_id),
                   title="Changed by Alice").status_code == 302

    url = f"/city/nominations/{nomination_id}/files/{image.id}/remove"
    refused = as_bob.post(url, {"version": remove_version})
    assert refused.status_code == 302
    page = html.unescape(as_bob.get(refused.headers["Location"]).get_data(as_text=True))
    assert "Nothing was removed: the dossier was saved after you opened it. Alice Martin saved the dossier at" in page
    assert db.session.scalar(select(func.count(Attachment.id))) == 1

    current = re.search(r'/remove" class="inline">.*?name="version"[^>]*value="(\d+)"', page, re.S).group(1)
    assert as_bob.post(url, {"version": current}).status_code == 302
    assert db.session.scalar(select(func.count(Attachment.id))) == 0


def test_submitting_a_dossier_changed_since_the_confirmation_page_is_refused(app, db, alice, bob, city, cycle):
    as_alice, as_bob = signed_in(app, alice), signed_in(app, bob)
    nomination_id = start(as_alice, city.id)
    assert save_as(as_alice, nomination_id, city.id, open_dossier(as_alice, nomination_id),
                   files={"letter": upload(pdf_bytes(), "brief.pdf")}).status_code == 302
    confirm = as_bob.get(f"/city/nominations/{nomination_id}/submit").get_data(as_text=True)
    bob_saw = version_on(confirm)
    assert save_as(as_alice, nomination_id, city.id, open_dossier(as_alice, nomination_id),
                   expected_participants="150").status_code == 302

    refused = as_bob.post(f"/city/nominations/{nomination_id}/submit", {"version": bob_saw})
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 200
    assert STALE in page and "Alice Martin saved the dossier at" in page
    assert re.search(r"Expected participants</th>\s*<td[^>]*>20,000</td>\s*<td[^>]*>150</td></tr>", page)
    assert db.session.get(Nomination, nomination_id).state == NominationState.DRAFT

    submitted = as_bob.post(f"/city/nominations/{nomination_id}/submit", {"version": version_on(page)})
    assert submitted.status_code == 302
    db.session.expire_all()
    assert db.session.get(Nomination, nomination_id).state == NominationState.SUBMITTED


def test_two_saves_of_one_version_at_the_same_moment_let_exactly_one_through(app, db, alice, bob, city, cycle):
    as_alice, as_bob = signed_in(app, alice), signed_in(app, bob)
    nomination_id = start(as_alice, city.id)
    opened = open_dossier(as_alice, nomination_id)
    for client in (as_alice, as_bob):
        client.csrf_token()
    turn = iter([(as_alice, "Alice's title"), (as_bob, "Bob's title")])

    def save_at_once():
        client, title = next(turn)
        response = save_as(client, nomination_id, city.id, opened, title=title)
        return response.status_code, title

    outcomes = at_once(app, save_at_once)
    assert sorted(status for status, _title in outcomes) == [200, 302]
    winner = next(title for status, title in outcomes if status == 302)
    nomination = db.session.get(Nomination, nomination_id)
    assert nomination.title == winner
    assert nomination.version == int(opened) + 1
    assert db.session.scalar(select(func.count(NominationRevision.id))) == 1


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), (11, 92, 173)).save(buffer, "PNG")
    return buffer.getvalue()


def test_the_conflict_is_told_in_the_reader_s_language(app, db, alice, bob, city, cycle):
    bob.locale = "fr"
    db.session.commit()
    as_alice, as_bob = signed_in(app, alice), signed_in(app, bob)
    nomination_id = start(as_alice, city.id)
    bob_opened = open_dossier(as_bob, nomination_id)
    assert save_as(as_alice, nomination_id, city.id, open_dossier(as_alice, nomination_id),
                   budget_range="over_500k").status_code == 302
    page = html.unescape(save_as(as_bob, nomination_id, city.id, bob_opened).get_data(as_text=True))
    assert "Quelqu'un a enregistré ce dossier après que vous l'avez ouvert" in page
    assert "Alice Martin a enregistré le dossier le" in page
    assert re.search(r"Fourchette budgétaire</th>\s*<td[^>]*>\(vide\)</td>\s*<td[^>]*>Plus de 500\u00a0000\u00a0€</td>", page)


def test_after_a_save_whose_file_was_refused_the_form_carries_the_new_version(app, db, alice, city, cycle):
    as_alice = signed_in(app, alice)
    nomination_id = start(as_alice, city.id)
    opened = open_dossier(as_alice, nomination_id)
    response = save_as(as_alice, nomination_id, city.id, opened, title="Saved with a bad file",
                       files={"letter": upload(b"<html>not a pdf</html>", "letter.pdf")})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and "Your other changes are saved" in page
    assert version_on(page) == str(db.session.get(Nomination, nomination_id).version) != opened
    assert save_as(as_alice, nomination_id, city.id, version_on(page), title="Saved again").status_code == 302
