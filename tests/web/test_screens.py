"""The screens as people use them (issue 8): saving never loses work, errors are found where they are,
only actions that can work are offered, and times, languages and lists read as people expect."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.models import Attachment, AuditEntry, Cycle, Mail, Nomination, User
from capital.models.types import utcnow
from capital.services.audit import record
from tests.conftest import WebClient, pdf_bytes
from tests.web.test_nomination_pages import (  # noqa: F401 (city, cycle, rep: the same fixtures)
    COMPLETE, _submitted, city, cycle, file_a_complete_draft, opened_version, rep, save, start, upload,
)


def field_tag(page: str, field_id: str) -> str:
    """The opening tag of the input, select or textarea whose id is ``field_id``."""
    match = re.search(rf'<(?:input|select|textarea)\b[^>]*\bid="{re.escape(field_id)}"[^>]*>', page)
    assert match, f"no field {field_id}"
    return match.group(0)


def assert_error_at(page: str, field_id: str, message: str) -> None:
    """GOV.UK's pattern: the summary links to the field, which is invalid and described by its message."""
    assert re.search(rf'<a href="#{re.escape(field_id)}">[^<]*{re.escape(message)}', page), "no summary link"
    tag = field_tag(page, field_id)
    assert 'aria-invalid="true"' in tag
    assert f"{field_id}-error" in re.search(r'aria-describedby="([^"]*)"', tag).group(1)
    assert re.search(rf'<p class="error" id="{re.escape(field_id)}-error">.*{re.escape(message)}', page)


# --- saving never loses work ---------------------------------------------------------------

def test_a_refused_letter_keeps_the_typed_dossier_saved_and_says_so_at_the_letter(client, db, rep, city, cycle):
    client.login(rep.email)
    nomination_id = start(client, city.id)
    response = save(client, nomination_id, city.id, files={"letter": upload(b"<html>not a pdf</html>", "Brief.pdf")})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert_error_at(page, "letter", "This file is not a PDF document.")
    assert "Your other changes are saved; choose a corrected file and save again." in page
    assert "<title>Error: " in page and "data-error-summary" in page and "autofocus" in page
    assert "Your dossier meets every rule" not in page  # no success box while errors stand
    assert 'value="Living together on the Rhine"' in page  # the typed title is still in the form
    nomination = db.session.get(Nomination, nomination_id)
    assert nomination.title == COMPLETE["title"] and nomination.partners == COMPLETE["partners"]
    assert db.session.scalar(select(func.count(Attachment.id))) == 0


def test_a_field_error_keeps_every_typed_value_and_names_the_file_to_choose_again(client, db, rep, city, cycle):
    client.login(rep.email)
    nomination_id = start(client, city.id)
    fields = dict(COMPLETE, expected_participants="0", summary_fr="Une journée portes ouvertes.")
    response = save(client, nomination_id, city.id, fields, files={"letter": upload(pdf_bytes(), "Brief des OB.pdf")})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="#expected_participants"' in page
    assert 'aria-invalid="true"' in field_tag(page, "expected_participants")
    assert "Nothing was saved: choose “Brief des OB.pdf” again before saving." in page
    assert_error_at(page, "letter", "Nothing was saved")
    assert "Une journée portes ouvertes." in page and 'value="Living together on the Rhine"' in page
    assert page.index("data-error-summary") < page.index("<h1>")  # the summary comes first
    assert db.session.get(Nomination, nomination_id).title == ""


def test_continue_to_submission_is_a_button_that_saves_first(client, db, rep, city, cycle):
    client.login(rep.email)
    nomination_id = start(client, city.id)
    page = client.get(f"/city/nominations/{nomination_id}/edit").get_data(as_text=True)
    form = page[page.index('<form method="post" enctype="multipart/form-data"'):]
    form = form[:form.index("</form>")]
    assert 'type="submit"' in form and 'value="Save and continue to submission"' in form
    assert f'href="/city/nominations/{nomination_id}/submit"' not in page  # no link that drops the typing
    data = dict(COMPLETE, host_city_id=str(city.id), continue_="Save and continue to submission",
                version=opened_version(nomination_id), letter=upload(pdf_bytes(), "letter.pdf"))
    response = client.post(f"/city/nominations/{nomination_id}/edit", data, content_type="multipart/form-data")
    assert response.headers["Location"].endswith(f"/city/nominations/{nomination_id}/submit")
    assert db.session.get(Nomination, nomination_id).title == COMPLETE["title"]
    confirm = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'role="status">Your dossier was saved at \d{1,2}:\d\d', confirm)


def test_after_the_deadline_the_dossier_is_read_only_with_the_reason(client, db, rep, city, cycle):
    client.login(rep.email)
    nomination_id = file_a_complete_draft(client, city)
    cycle.nominations_close_dt = utcnow() - timedelta(minutes=1)
    db.session.commit()
    page = client.get(f"/city/nominations/{nomination_id}/edit").get_data(as_text=True)
    assert "This dossier can no longer be changed:" in page and "The nomination deadline has passed." in page
    assert "enctype=\"multipart/form-data\"" not in page and "you can save" not in page.lower()
    assert COMPLETE["partners"] in page  # the dossier itself is shown
    show = client.get(f"/city/nominations/{nomination_id}").get_data(as_text=True)
    assert "Edit the dossier" not in show and "Submit the nomination" not in show


def test_a_save_refused_at_the_deadline_keeps_the_typing(client, db, rep, city, cycle):
    client.login(rep.email)
    nomination_id = start(client, city.id)
    client.get(f"/city/nominations/{nomination_id}/edit")  # the form was shown before the deadline
    cycle.nominations_close_dt = utcnow() - timedelta(seconds=1)
    db.session.commit()
    page = save(client, nomination_id, city.id).get_data(as_text=True)
    assert "The nomination deadline has passed." in page and "<title>Error: " in page
    assert 'value="Living together on the Rhine"' in page and COMPLETE["summary_en"] in page


# --- only actions that can work ---------------------------------------------------------------

def test_start_is_not_offered_once_the_city_has_submitted(client, db, rep, city, cycle):
    client.login(rep.email)
    assert "Start the nomination" in client.get("/city/").get_data(as_text=True)
    _submitted(client, db, city)
    dashboard = client.get("/city/").get_data(as_text=True)
    assert "Start the nomination" not in dashboard
    assert "Your city has already submitted a nomination in this cycle; you can still edit it." in dashboard
    client.post("/city/nominations/new", {"host_city_id": city.id})
    assert db.session.scalar(select(func.count(Nomination.id))) == 1


def test_yes_submit_it_is_not_offered_with_unmet_rules(client, db, rep, city, cycle):
    client.login(rep.email)
    nomination_id = start(client, city.id)
    page = client.get(f"/city/nominations/{nomination_id}/submit").get_data(as_text=True)
    assert "Give the nomination a title." in page
    assert "Yes, submit it" not in page and "Complete the dossier" in page
    show = client.get(f"/city/nominations/{nomination_id}").get_data(as_text=True)
    assert "Submit the nomination" not in show and "Edit the dossier" in show


def test_a_submitted_dossier_has_its_own_wording_and_what_happens_next(client, db, rep, city, cycle):
    client.login(rep.email)
    nomination_id = _submitted(client, db, city)
    page = client.get(f"/city/nominations/{nomination_id}/edit").get_data(as_text=True)
    assert "Change the submitted dossier" in page and "Before you submit" not in page
    assert "Save the draft" not in page and 'value="Save the changes"' in page
    show = client.get(f"/city/nominations/{nomination_id}").get_data(as_text=True)
    assert "What happens next" in show and "The board votes from" in show
    assert "Change the submitted dossier" in show and "Submit the nomination" not in show


def test_what_happens_next_names_the_assessment_and_the_shortlist_when_the_cycle_has_them(client, db, rep, city,
                                                                                          cycle):
    client.login(rep.email)
    nomination_id = _submitted(client, db, city)
    show = client.get(f"/city/nominations/{nomination_id}").get_data(as_text=True)
    assert "assess the eligible dossiers" not in show and "The shortlist is published" not in show
    # The same cycle with both stages, between the close of nominations and the vote.
    close, opens = cycle.nominations_close_dt, cycle.voting_open_dt
    step = (opens - close) / 7
    cycle.assessment_open_dt, cycle.assessment_close_dt = close + step, close + 2 * step
    cycle.shortlist_open_dt, cycle.shortlist_close_dt = close + 3 * step, close + 4 * step
    cycle.shortlist_publication_dt, cycle.finalist_update_close_dt = close + 5 * step, close + 6 * step
    cycle.has_assessment, cycle.shortlist_size = True, 3
    db.session.commit()
    show = client.get(f"/city/nominations/{nomination_id}").get_data(as_text=True)
    steps = re.search(r'<ol class="next-steps">(.*?)</ol>', show, re.S).group(1)
    items = [" ".join(re.sub(r"<[^>]+>", "", item).split()) for item in re.findall(r"<li>(.*?)</li>", steps, re.S)]
    assert [item.split()[:3] for item in items] == [
        ["Nominations", "close", "on"], ["The", "secretariat", "then"], ["The", "board", "and"],
        ["The", "shortlist", "is"], ["The", "board", "votes"], ["The", "capital", "is"]]
    assert "Finalists may send an updated dossier or a presentation until" in items[3]
    assert items[4].endswith("The vote is among the finalists only.")


def test_endorse_is_offered_only_when_it_can_work(app, client, db, rep, city, cycle, make_city, make_user):
    client.login(rep.email)
    nomination_id = _submitted(client, db, city)
    venlo = WebClient(app.test_client())
    venlo.login(make_user(Role.REPRESENTATIVE, city=make_city("Venlo", country="NL")).email)
    assert "Endorse this nomination" in venlo.get(f"/city/nominations/{nomination_id}").get_data(as_text=True)
    venlo.post(f"/city/nominations/{nomination_id}/endorse")
    page = venlo.get(f"/city/nominations/{nomination_id}").get_data(as_text=True)
    assert "Endorse this nomination" not in page
    assert "Your city has already endorsed a nomination in this cycle." in page


# --- errors are found where they are ---------------------------------------------------------

def test_a_failed_sign_in_is_an_alert_linked_to_the_field(client, rep):
    page = client.post("/account/login", {"email": rep.email, "password": "wrong password"}).get_data(as_text=True)
    assert re.search(r'class="error-summary" role="alert"', page)
    assert_error_at(page, "password", "Wrong e-mail address or password.")
    assert "<title>Error: " in page


def test_the_review_radio_error_links_to_its_first_option(app, client, db, rep, city, cycle, make_user):
    client.login(rep.email)
    nomination_id = _submitted(client, db, city)
    cycle.phase = Phase.NOMINATIONS_CLOSED
    db.session.commit()
    secretariat = WebClient(app.test_client())
    secretariat.login(make_user(Role.SECRETARIAT).email)
    page = secretariat.post(f"/review/{nomination_id}", {"reason": ""}).get_data(as_text=True)
    assert 'href="#decision-0"' in page
    assert re.search(r'<fieldset class="choices has-error" id="decision-group"\s+aria-describedby="decision-error"', page)


def test_success_is_announced_as_a_status(client, rep, city, cycle):
    client.login(rep.email)
    nomination_id = start(client, city.id)
    save(client, nomination_id, city.id)
    page = client.get(f"/city/nominations/{nomination_id}/edit").get_data(as_text=True)
    assert re.search(r'<p class="flash flash-success" role="status">Your dossier was saved at', page)


# --- time and language -------------------------------------------------------------------------

def test_dossier_text_boxes_name_their_language_in_the_readers_language(client, db, rep, city, cycle):
    client.login(rep.email)
    nomination_id = start(client, city.id)
    page = client.get(f"/city/nominations/{nomination_id}/edit").get_data(as_text=True)
    assert '<label for="summary_fr">Summary (French)</label>' in page
    assert '<label for="programme_zh">Programme for 16 May (Chinese)</label>' in page
    rep.locale = "de"
    db.session.commit()
    page = client.get(f"/city/nominations/{nomination_id}/edit").get_data(as_text=True)
    assert '<label for="summary_fr">Zusammenfassung (Französisch)</label>' in page


def test_chinese_limits_count_characters(client, db, rep, city, cycle):
    rep.locale = "zh"
    db.session.commit()
    client.login(rep.email)
    nomination_id = start(client, city.id)
    page = client.get(f"/city/nominations/{nomination_id}/edit").get_data(as_text=True)
    assert "个字" in page and "个词" not in page


def test_the_time_zone_picker_is_grouped_named_and_without_technical_zones(client, db, rep):
    client.login(rep.email)
    page = client.get("/account/settings").get_data(as_text=True)
    picker = page[page.index('id="timezone"'):]
    picker = picker[:picker.index("</select>")]
    assert 'value="Factory"' not in picker and 'value="Etc/GMT+5"' not in picker
    assert picker.index('<optgroup label="Frequently used">') < picker.index('<optgroup label="Europe">')
    assert re.search(r'<option value="Europe/Berlin">Germany \(Berlin\) Time</option>', picker)
    rep.locale = "fr"
    db.session.commit()
    page = client.get("/account/settings").get_data(as_text=True)
    assert "Allemagne" in page and '<optgroup label="Europe">' in page


def test_deadlines_are_localized_without_seconds(client, db, rep, city, cycle):
    rep.locale = "fr"
    db.session.commit()
    client.login(rep.email)
    page = client.get("/city/").get_data(as_text=True)
    assert re.search(r"\d{1,2} \w+ \d{4}, \d\d:\d\d, heure de Düsseldorf \((CET|CEST), UTC\+0[12]:00\)", page)


# --- the smaller points ------------------------------------------------------------------------

def test_the_citys_mail_list_names_each_recipient(client, db, rep, city, cycle):
    client.login(rep.email)
    _submitted(client, db, city)
    page = client.get("/city/").get_data(as_text=True)
    assert "to rep@duesseldorf.example" in page and f"to {city.contact_email}" in page


def test_cycle_history_never_shows_a_technical_actor(client, db, make_user, cycle):
    record("cycle.updated", cycle, actor="cli", now=utcnow(), cycle_id=cycle.id)
    db.session.commit()
    client.login(make_user(Role.SECRETARIAT).email)
    page = client.get(f"/secretariat/cycles/{cycle.id}").get_data(as_text=True)
    assert "The operations team (command line)" in page
    assert not re.search(r">\s*cli\s*<", page)
    assert db.session.scalar(select(func.count(AuditEntry.id))) >= 1


def test_the_home_page_never_shows_a_closed_step_as_still_to_come(client, db, make_cycle):
    cycle = make_cycle(Phase.VOTING_CLOSED)  # voting closed by hand, ahead of its date
    page = client.get("/").get_data(as_text=True)
    assert "Voting closed" in page
    assert re.search(r"<dt>Voting deadline</dt>\s*<dd>Done early \(planned for \d", page)
    assert cycle.voting_close_dt > utcnow()


def test_the_2019_nominees_page_names_the_capital_like_the_home_page(client, db, make_city):
    cordoba = make_city("Córdoba", country="ES", timezone="Europe/Madrid")
    db.session.add(Cycle(year=2019, celebration_date=date(2019, 5, 16), phase=Phase.ANNOUNCED,
                         capital_city_id=cordoba.id, phase_changed_dt=utcnow(), created_dt=utcnow()))
    db.session.commit()
    assert "Córdoba" in client.get("/").get_data(as_text=True)
    page = client.get("/nominees").get_data(as_text=True)
    assert "Córdoba" in page and "No nominee." not in page


@pytest.mark.parametrize("locale,words", [("en", ("Contact", "Privacy")), ("fr", ("Contact", "Confidentialité")),
                                          ("ar", ("اتصل بنا", "الخصوصية"))])
def test_the_footer_leads_to_contact_help_privacy_and_accessibility(client, locale, words):
    home = client.get("/", headers={"Accept-Language": locale}).get_data(as_text=True)
    footer = home[home.index('<footer'):]
    for name in ("contact", "help", "privacy", "accessibility"):
        assert f'href="/about/{name}"' in footer
        page = client.get(f"/about/{name}", headers={"Accept-Language": locale})
        assert page.status_code == 200
        assert "secretariat@capital.example" in page.get_data(as_text=True) or name == "help"
    assert all(word in footer for word in words)


def test_an_invitation_mailed_in_arabic_opens_an_arabic_page(client, db, make_user):
    from tests.web.test_accounts import _invite, _link_in

    mail = _invite(client, db, make_user, locale="ar")
    assert mail.locale == "ar"
    page = client.get(_link_in(mail), headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    client.post(_link_in(mail), {"name": "نادية", "password": "a long enough password",
                                 "confirm": "a long enough password"})
    assert User.by_email("new.member@city.example").mail_language == "ar"


def test_the_header_switch_changes_the_pages_not_the_official_mail(client, db, rep, city, cycle):
    rep.locale = "de"
    db.session.commit()
    client.login(rep.email)
    client.post("/language", {"locale": "fr", "next": "/"})
    db.session.expire_all()
    person = db.session.get(User, rep.id)
    assert (person.locale, person.mail_language) == ("fr", "de")
    settings = client.get("/account/settings").get_data(as_text=True)
    assert 'id="mail_locale"' in settings and 'id="locale"' in settings
    client.post("/account/settings", {"name": "Renate", "locale": "fr", "mail_locale": "es", "timezone": ""})
    person = db.session.get(User, rep.id)
    assert (person.locale, person.mail_locale) == ("fr", "es")
    _submitted(client, db, city)
    receipt = db.session.scalar(select(Mail).where(Mail.recipient == rep.email))
    assert receipt.locale == "es"


def test_numbers_and_units_follow_the_readers_language(client, db, rep, city, cycle):
    rep.locale = "fr"
    db.session.commit()
    client.login(rep.email)
    nomination_id = file_a_complete_draft(client, city)
    page = client.get(f"/city/nominations/{nomination_id}").get_data(as_text=True)
    assert "20\u202f000" in page  # French groups thousands with a narrow no-break space
    assert re.search(r"\d+\s?ko\)", page) and " KB" not in page  # kilo-octets


def test_the_review_form_is_offered_only_once_nominations_have_closed(app, client, db, rep, city, cycle, make_user):
    client.login(rep.email)
    nomination_id = _submitted(client, db, city)
    secretariat = WebClient(app.test_client())
    secretariat.login(make_user(Role.SECRETARIAT).email)
    page = secretariat.get(f"/review/{nomination_id}").get_data(as_text=True)
    assert "Eligibility is decided after the nomination deadline" in page and 'name="decision"' not in page
    cycle.phase = Phase.NOMINATIONS_CLOSED
    db.session.commit()
    assert 'name="decision"' in secretariat.get(f"/review/{nomination_id}").get_data(as_text=True)


def test_the_cycle_page_links_only_phase_changes_that_can_work(client, db, make_user, make_cycle):
    cycle = make_cycle(Phase.DRAFT)
    client.login(make_user(Role.SECRETARIAT).email)
    page = client.get(f"/secretariat/cycles/{cycle.id}").get_data(as_text=True)
    assert f"/secretariat/cycles/{cycle.id}/phase/nominations_open" in page  # its dates lie ahead: it can open
    cycle.nominations_close_dt = utcnow() - timedelta(days=1)  # a deadline already gone: opening must wait
    db.session.commit()
    page = client.get(f"/secretariat/cycles/{cycle.id}").get_data(as_text=True)
    assert f"/secretariat/cycles/{cycle.id}/phase/nominations_open" not in page
    assert "not possible now." in page


def test_editing_after_nominations_were_closed_early_by_hand_is_read_only(client, db, rep, city, cycle):
    client.login(rep.email)
    nomination_id = file_a_complete_draft(client, city)
    cycle.phase = Phase.NOMINATIONS_CLOSED  # closed by hand; the deadline still lies ahead
    db.session.commit()
    page = client.get(f"/city/nominations/{nomination_id}/edit").get_data(as_text=True)
    assert "This dossier can no longer be changed:" in page
    assert 'enctype="multipart/form-data"' not in page and "You can save and come back" not in page


def test_the_city_forms_time_zone_picker_has_no_technical_zones(client, make_user):
    client.login(make_user(Role.SECRETARIAT).email)
    page = client.get("/secretariat/cities/new").get_data(as_text=True)
    picker = page[page.index('id="timezone"'):]
    picker = picker[:picker.index("</select>")]
    assert 'value="Factory"' not in picker and 'value="Etc/GMT+5"' not in picker
    assert '<optgroup label="Frequently used">' in picker and 'value="Europe/Madrid"' in picker


def test_a_finished_cycle_is_not_offered_as_a_form(client, db, make_user, make_cycle):
    cycle = make_cycle(Phase.CANCELLED)
    client.login(make_user(Role.SECRETARIAT).email)
    page = client.get(f"/secretariat/cycles/{cycle.id}/edit").get_data(as_text=True)
    assert "This cycle is over: it can no longer change." in page and 'id="nominations_open_dt"' not in page
