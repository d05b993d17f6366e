"""The jury report as the public reads it (year page, API, feed, exhibition, mail) and as the board writes it."""

import json
import re
from datetime import timedelta
from xml.etree import ElementTree as ET

from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.models import JuryReportText, Mail
from capital.public import clock
from capital.public.exhibition import export_exhibition
from capital.services import reports
from capital.services.cycles import change_phase
from tests.conftest import body_html, body_text, write_group_mail
from tests.public_data import (
    AFTER, ANNOUNCEMENT, BALLOTS, BEFORE, CITATION, FINALIST_NOTE, REASONS, add_criteria, add_report,
    make_counted_cycle, reasons_of,
)

ATOM = "{http://www.w3.org/2005/Atom}"
API = "/api/v1/cycles/2031/report"


def test_the_year_page_shows_the_report_above_the_count_only_from_the_announcement(client, db, make_city,
                                                                                     monkeypatch):
    add_report(db, make_counted_cycle(db, make_city))
    monkeypatch.setattr(clock, "now", lambda: BEFORE)
    before = client.get("/2031", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "jury report" not in before.lower() and "Palermo opened its squares" not in before

    monkeypatch.setattr(clock, "now", lambda: AFTER)
    page = client.get("/2031", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Palerme a ouvert ses places" in page and "Le jury salue ses écoles." in page
    assert "Tunis a réuni ses quartiers." in page
    assert page.index('id="jury-report"') < page.index('id="vote-1"')  # above the count
    assert "Ce rapport existe en : anglais, français." in page


def test_a_reader_without_their_language_gets_the_first_one_marked_with_its_lang(client, db, make_city,
                                                                                  monkeypatch):
    add_report(db, make_counted_cycle(db, make_city), {"fr": CITATION["fr"]}, first="fr")
    monkeypatch.setattr(clock, "now", lambda: AFTER)
    page = client.get("/2031", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<div lang="fr" dir="ltr" class="report-text">' in page
    assert "Palerme a ouvert ses places" in page
    assert "Dieser Bericht liegt vor in: Französisch." in page
    arabic = client.get("/2031", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert '<div lang="fr" dir="ltr" class="report-text">' in arabic and '<html lang="ar" dir="rtl">' in arabic


def test_the_api_gives_every_language_once_announced(client, db, make_city, monkeypatch):
    cycle = make_counted_cycle(db, make_city)
    add_report(db, cycle)
    monkeypatch.setattr(clock, "now", lambda: BEFORE)
    assert client.get(API).status_code == 404
    monkeypatch.setattr(clock, "now", lambda: AFTER)
    answer = client.get(API).get_json()
    assert (answer["year"], answer["capital"]["name"], answer["first_language"]) == (2031, "Palermo", "en")
    assert answer["languages"] == ["en", "fr"]
    assert {t["language"]: t["citation"] for t in answer["texts"]} == CITATION
    assert [(f["city"]["name"], f["text"]) for f in answer["texts"][1]["finalists"]] == [
        ("تونس", FINALIST_NOTE["fr"])]
    document = client.get("/api/v1/openapi.json").get_json()
    assert "/cycles/{year}/report" in document["paths"]


def test_an_announced_cycle_without_report_answers_404_in_the_api(client, db, make_city, monkeypatch):
    make_counted_cycle(db, make_city)
    monkeypatch.setattr(clock, "now", lambda: AFTER)
    assert client.get(API).status_code == 404
    assert "jury-report" not in client.get("/2031").get_data(as_text=True)


def test_the_feed_entry_carries_the_citation_in_its_language(client, db, make_city, monkeypatch):
    add_report(db, make_counted_cycle(db, make_city), {"fr": CITATION["fr"]}, first="fr")
    monkeypatch.setattr(clock, "now", lambda: BEFORE)
    assert b"Palerme" not in client.get("/feed.atom").data
    monkeypatch.setattr(clock, "now", lambda: AFTER)
    [entry] = ET.fromstring(client.get("/feed.atom", headers={"Accept-Language": "en"}).data).findall(f"{ATOM}entry")
    content = entry.find(f"{ATOM}content")
    assert content.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr"
    assert content.text == CITATION["fr"]


def test_the_feed_entry_carries_the_reasons_under_the_criteria_names_in_the_reports_language(client, db, make_city,
                                                                                              monkeypatch):
    cycle = make_counted_cycle(db, make_city)
    criteria = add_criteria(db, cycle)
    add_report(db, cycle, first="fr", reasons=reasons_of(criteria))
    monkeypatch.setattr(clock, "now", lambda: AFTER)
    [entry] = ET.fromstring(client.get("/feed.atom", headers={"Accept-Language": "zh"}).data).findall(f"{ATOM}entry")
    content = entry.find(f"{ATOM}content")
    assert content.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr"
    assert content.text == f"{CITATION['fr']}\n\nVille inclusive\n\n{REASONS['fr'][0]}"


def test_the_exhibition_bundle_holds_the_report_in_every_language(app, db, make_city, tmp_path):
    cycle = make_counted_cycle(db, make_city)
    add_report(db, cycle, reasons=reasons_of(add_criteria(db, cycle)))
    export_exhibition(2031, tmp_path, now=AFTER)
    french = (tmp_path / "fr" / "index.html").read_text()
    assert "Palerme a ouvert ses places" in french and REASONS["fr"][0] in french and "Ville inclusive" in french
    for locale in ("en", "de", "es", "ar", "zh", "ru"):
        page = (tmp_path / locale / "index.html").read_text()
        assert "Palermo opened its squares" in page and REASONS["en"][1] in page, locale


def test_the_announcement_mail_carries_the_report_in_each_recipients_language(app, db, make_city, make_user):
    cycle = make_counted_cycle(db, make_city, phase=Phase.TALLIED)
    add_report(db, cycle)
    palermo, tunis = cycle.capital_city, next(n.host_city for n in reports.other_finalists(cycle)
                                               if n.host_city.name_latin == "Tunis")
    make_user(Role.REPRESENTATIVE, city=palermo, locale="fr", email="lucia@palermo.example")
    make_user(Role.REPRESENTATIVE, city=tunis, locale="de", email="amel@tunis.example")
    now = ANNOUNCEMENT - timedelta(hours=1)
    change_phase(cycle, Phase.ANNOUNCED, actor=make_user(Role.SECRETARIAT), now=now, by_hand=True)
    db.session.commit()
    write_group_mail(now)
    mails = {m.recipient: m for m in db.session.query(Mail).filter_by(kind="announcement")}
    french, german = mails["lucia@palermo.example"], mails["amel@tunis.example"]
    assert "Palerme a ouvert ses places" in body_text(french) and "Palermo opened" not in body_text(french)
    assert "Der Bericht der Jury (Englisch):" in body_text(german)
    assert "Palermo opened its squares to every faith and every language." in body_text(german)
    assert '<div lang="en" dir="ltr"><p>Palermo opened its squares' in body_html(german)


def _rapporteur(db, make_city, make_user, client):
    cycle = make_counted_cycle(db, make_city, phase=Phase.TALLIED, announcement_dt=ANNOUNCEMENT + timedelta(days=400))
    secretariat = make_user(Role.SECRETARIAT, email="office@capital.example")
    member = make_user(Role.BOARD, email="rapporteur@board.example", locale="en")
    client.login(secretariat.email)
    page = client.get(f"/secretariat/cycles/{cycle.id}").get_data(as_text=True)
    assert f'<option value="{member.id}">{member.name}</option>' in page
    response = client.post(f"/secretariat/cycles/{cycle.id}/rapporteur", {"rapporteur": str(member.id)})
    assert response.status_code == 302
    client.post("/account/logout")
    return cycle, member


def test_the_secretariat_gives_the_report_to_a_board_member_who_writes_it(client, db, make_city, make_user):
    cycle, member = _rapporteur(db, make_city, make_user, client)
    client.login(member.email)
    assert "Write the jury report 2031" in client.get("/board/").get_data(as_text=True)
    form = client.get("/board/report/2031?lang=fr").get_data(as_text=True)
    # The labels are in the page's language (English here); what is typed is French, and each box says so.
    assert '<form method="post" class="form">' in form and "On تونس (optional)" in form
    assert re.search(r'<textarea[^>]*id="citation"[^>]*lang="fr"[^>]*>', form) and 'dir="ltr"' in form
    assert 'name="reason_' not in form and "criterion by criterion" not in form  # a cycle without criteria
    tunis = next(n for n in reports.other_finalists(cycle) if n.host_city.name_latin == "Tunis")

    empty = client.post("/board/report/2031?lang=fr", {"citation": "  "})
    assert empty.status_code == 200
    text = empty.get_data(as_text=True)
    # GOV.UK's pattern: the summary links to the field, which says what is wrong.
    assert '<a href="#citation">Write the citation: a few paragraphs on the designated capital.</a>' in text
    assert 'aria-invalid="true"' in text and '<p class="error" id="citation-error">' in text
    assert db.session.query(JuryReportText).count() == 0

    pasted = client.post("/board/report/2031?lang=fr", {"citation": "Voir TUN1-0000-0000-0004.",
                                                         f"finalist_{tunis.id}": ""}).get_data(as_text=True)
    assert '<a href="#citation">Leave receipt codes out of the report' in pasted
    spaced = client.post("/board/report/2031?lang=fr", {"citation": "Palerme.", f"finalist_{tunis.id}":
                                                        "Merci à tun1 0000 0000 0004."}).get_data(as_text=True)
    assert f'<a href="#finalist_{tunis.id}">Leave receipt codes out of the report' in spaced  # a real one, spaced
    assert db.session.query(JuryReportText).count() == 0

    saved = client.post("/board/report/2031?lang=fr", {"citation": "Palerme.", f"finalist_{tunis.id}": "Tunis."})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/board/report/2031?lang=fr")
    again = client.post("/board/report/2031?lang=fr", {"citation": "Palerme, encore.", f"finalist_{tunis.id}": ""})
    assert again.status_code == 302
    page = client.get("/board/report/2031?lang=fr").get_data(as_text=True)
    assert "Palerme, encore." in page and page.count("French</td>") == 2  # two drafts in the history
    assert [(t.version, t.finalists) for t in db.session.query(JuryReportText).order_by(JuryReportText.id)] == [
        (1, {str(tunis.id): "Tunis."}), (2, {})]


def test_only_the_rapporteur_and_the_secretariat_write_the_report(client, db, make_city, make_user):
    _rapporteur(db, make_city, make_user, client)
    other = make_user(Role.BOARD, email="other@board.example")
    client.login(other.email)
    assert client.get("/board/report/2031").status_code == 403
    assert client.post("/board/report/2031", {"citation": "Mine."}).status_code == 403
    assert "Write the jury report" not in client.get("/board/").get_data(as_text=True)


def test_no_receipt_code_reaches_the_report_or_its_answers(client, db, make_city, monkeypatch):
    add_report(db, make_counted_cycle(db, make_city))
    monkeypatch.setattr(clock, "now", lambda: AFTER)
    answer = json.dumps(client.get(API).get_json())
    feed = client.get("/feed.atom").get_data(as_text=True)
    assert not [code for code, _ in BALLOTS if code in answer or code in feed]


def test_the_reasons_are_written_per_criterion_and_read_wherever_the_report_is(client, db, make_city, make_user,
                                                                                monkeypatch, tmp_path):
    from capital.public.record import record_pdf
    from tests.web.test_record import pdf_text

    cycle, member = _rapporteur(db, make_city, make_user, client)
    inclusive, reach = add_criteria(db, cycle)
    client.login(member.email)
    form = client.get("/board/report/2031?lang=fr").get_data(as_text=True)
    # Each criterion's name in the page's language (the writer's), else its first one, marked; its
    # description as the hint; the text box in the language written.
    assert f'<label for="reason_{inclusive.id}">Inclusive city</label>' in form
    assert f'<p class="hint" id="reason_{inclusive.id}-hint">A city where everyone belongs.</p>' in form
    assert re.search(rf'<textarea[^>]*id="reason_{inclusive.id}"[^>]*lang="fr"', form)
    assert f'<label for="reason_{reach.id}"><span lang="de" dir="ltr">Reichweite</span></label>' in form
    assert f'aria-describedby="reason_{reach.id}-hint"' in form
    assert form.index(f'id="reason_{reach.id}"') < form.index('id="finalist_')  # the reasons before the notes

    english = {"citation": CITATION["en"], f"reason_{inclusive.id}": REASONS["en"][0],
               f"reason_{reach.id}": REASONS["en"][1]}
    assert client.post("/board/report/2031?lang=en", english).status_code == 302
    french = {"citation": CITATION["fr"], f"reason_{inclusive.id}": REASONS["fr"][0], f"reason_{reach.id}": ""}
    assert client.post("/board/report/2031?lang=fr", french).status_code == 302
    page = client.get("/board/report/2031?lang=fr").get_data(as_text=True)
    assert f'name="reason_{inclusive.id}" rows="4">\r\n{REASONS["fr"][0]}</textarea>' in page  # the draft, again
    assert [(t.locale, t.reasons) for t in db.session.query(JuryReportText).order_by(JuryReportText.id)] == [
        ("en", {str(inclusive.id): REASONS["en"][0], str(reach.id): REASONS["en"][1]}),
        ("fr", {str(inclusive.id): REASONS["fr"][0]})]

    palermo, tunis = cycle.capital_city, next(n.host_city for n in reports.other_finalists(cycle)
                                               if n.host_city.name_latin == "Tunis")
    make_user(Role.REPRESENTATIVE, city=palermo, locale="fr", email="lucia@palermo.example")
    make_user(Role.REPRESENTATIVE, city=tunis, locale="de", email="amel@tunis.example")
    change_phase(cycle, Phase.ANNOUNCED, actor=make_user(Role.SECRETARIAT), now=ANNOUNCEMENT, by_hand=True)
    db.session.commit()
    client.post("/account/logout")

    monkeypatch.setattr(clock, "now", lambda: BEFORE)
    before = client.get("/2031", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert REASONS["fr"][0] not in before and "Ville inclusive" not in before
    assert client.get(API).status_code == 404
    monkeypatch.setattr(clock, "now", lambda: AFTER)
    year = client.get("/2031", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "<h4><span>Ville inclusive</span></h4>" in year and REASONS["fr"][0] in year
    assert "Reichweite" not in year  # no French reason against it
    assert year.index(REASONS["fr"][0]) < year.index('id="vote-1"')
    german = client.get("/2031", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<h4><span lang="en" dir="ltr">Inclusive city</span></h4>' in german  # the report's first language
    assert "<h4><span>Reichweite</span></h4>" in german and REASONS["en"][1] in german

    answer = client.get(API).get_json()
    assert answer["criteria"] == [{"id": str(inclusive.id), "names": {"en": "Inclusive city", "fr": "Ville inclusive"}},
                                  {"id": str(reach.id), "names": {"de": "Reichweite"}}]
    assert {t["language"]: t["reasons"] for t in answer["texts"]} == {
        "en": {str(inclusive.id): REASONS["en"][0], str(reach.id): REASONS["en"][1]},
        "fr": {str(inclusive.id): REASONS["fr"][0]}}

    french_pdf = pdf_text(record_pdf(cycle, "fr", AFTER), tmp_path)
    assert "Ville inclusive" in french_pdf and REASONS["fr"][0] in french_pdf and "Reichweite" not in french_pdf
    internal = pdf_text(record_pdf(cycle, "en", AFTER, internal=True), tmp_path)
    assert "Inclusive city" in internal and "Reichweite" in internal and REASONS["en"][1] in internal

    write_group_mail(ANNOUNCEMENT)
    mails = {m.recipient: m for m in db.session.query(Mail).filter_by(kind="announcement")}
    lucia, amel = mails["lucia@palermo.example"], mails["amel@tunis.example"]
    assert f"Ville inclusive\n\n{REASONS['fr'][0]}" in body_text(lucia) and "Reichweite" not in body_text(lucia)
    assert f'<h3><span>Ville inclusive</span></h3>\n<div lang="fr" dir="ltr"><p>{REASONS["fr"][0]}' in body_html(lucia)
    # German has no text: the English one, under each criterion's German name where it has one.
    assert f"Inclusive city\n\n{REASONS['en'][0]}" in body_text(amel)
    assert f"Reichweite\n\n{REASONS['en'][1]}" in body_text(amel)
    assert '<h3><span lang="en" dir="ltr">Inclusive city</span></h3>' in body_html(amel)
    assert not [code for code, _ in BALLOTS if code in body_text(amel) + body_html(amel)]


def test_a_refused_reason_is_shown_at_its_field_with_what_was_typed(client, db, make_city, make_user):
    cycle, member = _rapporteur(db, make_city, make_user, client)
    inclusive, reach = add_criteria(db, cycle)
    client.login(member.email)
    long = "Palermo " * 200  # 1 600 characters
    page = client.post("/board/report/2031?lang=en", {"citation": "Palermo.", f"reason_{inclusive.id}": long,
                                                     f"reason_{reach.id}": "Ten cities."}).get_data(as_text=True)
    assert f'<a href="#reason_{inclusive.id}">' in page and f'<p class="error" id="reason_{inclusive.id}-error">' in page
    assert long.strip() in page and "Ten cities." in page  # nothing typed is lost
    assert f'aria-describedby="reason_{inclusive.id}-hint reason_{inclusive.id}-error"' in page
    pasted = client.post("/board/report/2031?lang=en", {"citation": "Palermo.",
                                                       f"reason_{reach.id}": "See TUN1-0000-0000-0004."})
    text = pasted.get_data(as_text=True)
    assert f'<a href="#reason_{reach.id}">Leave receipt codes out of the report' in text
    assert "See TUN1-0000-0000-0004." in text and db.session.query(JuryReportText).count() == 0
