"""The jury report: who writes it, its drafts in several languages, and nothing of it before the announcement."""

from datetime import timedelta

import pytest

from capital.domain.messages import RuleViolation
from capital.domain.phase import Phase
from capital.domain.report import paragraphs, reader_language, report_problems
from capital.domain.roles import Role
from capital.models import AuditEntry, JuryReportText
from capital.services import reports
from tests.public_data import (
    AFTER, ANNOUNCEMENT, BEFORE, CITATION, REASONS, add_criteria, add_report, make_counted_cycle, reasons_of,
)

SAVED = ANNOUNCEMENT - timedelta(days=2)


def test_a_reader_sees_their_language_else_the_first_written():
    assert reader_language({"fr", "en"}, "fr", "en") == "fr"
    assert reader_language({"fr", "en"}, "zh", "fr") == "fr"
    assert reader_language({"de"}, "zh", "fr") == "de"
    assert reader_language(set(), "zh", "fr") is None


def test_a_draft_needs_a_citation_of_bounded_length():
    assert [m.code for m in report_problems("en", "  ", {})] == ["report.citation_missing"]
    assert [m.code for m in report_problems("xx", "x" * 6001, {"7": "y" * 1501})] == [
        "report.locale", "report.citation_long", "report.paragraph_long"]
    assert report_problems("ar", "نص", {"7": "قصير"}) == []
    # Nothing shaped like a receipt code, in any case or spacing: the report is public.
    assert [m.code for m in report_problems("en", "Thanks to TUN1-0000-0000-0004.", {"7": "k7qm 3xpa 9rtw hv4n"},
                                            ["K7QM-3XPA-9RTW-HV4N"])] == [
        "report.citation_receipt", "report.paragraph_receipt"]
    assert report_problems("en", "In 2031, this city will host 1200 people on 16 May at 12:00; call 0612-3456. "
                                 "A well-kept-open-door city.", {}, ["K7QM-3XPA-9RTW-HV4N"]) == []
    assert paragraphs("One\nline.\r\n\r\n\n Two. ") == ["One line.", "Two."]


def test_the_reasons_are_checked_like_the_notes_each_problem_naming_its_criterion():
    found = report_problems("en", "Palermo.", {"7": "Fine."}, ["K7QM-3XPA-9RTW-HV4N"],
                            reasons={"7": "z" * 1501, "9": "See k7qm-3xpa-9rtw-hv4n."})
    assert [(m.code, m.params["key"]) for m in found] == [("report.reason_long", "7"), ("report.reason_receipt", "9")]
    assert report_problems("en", "Palermo.", {}, reasons={"7": "x" * 1500}) == []


def test_the_rapporteur_writes_drafts_and_every_version_is_kept(db, make_city, make_user):
    cycle = make_counted_cycle(db, make_city, phase=Phase.TALLIED)
    secretariat, member, other = make_user(Role.SECRETARIAT), make_user(Role.BOARD), make_user(Role.BOARD)
    reports.assign_rapporteur(cycle, member, actor=secretariat, now=SAVED)
    db.session.commit()
    tunis = next(n for n in reports.other_finalists(cycle) if n.host_city.name_latin == "Tunis")
    assert [n.host_city.name_latin for n in reports.other_finalists(cycle)] == ["Tunis", "Venlo"]

    reports.save_report(cycle, "fr", "Premier jet.", {tunis.id: "Tunis."}, actor=member, now=SAVED)
    reports.save_report(cycle, "fr", "Palerme, second jet.", {tunis.id: ""}, actor=member,
                        now=SAVED + timedelta(hours=1))
    reports.save_report(cycle, "en", "Palermo.", {}, actor=secretariat, now=SAVED + timedelta(hours=2))
    db.session.commit()

    report = reports.report_of(cycle)
    assert report.first_locale == "fr"  # the first language written stays the first
    assert {locale: (t.version, t.citation, t.finalists) for locale, t in reports.current_texts(report).items()} == {
        "fr": (2, "Palerme, second jet.", {}), "en": (1, "Palermo.", {})}
    assert [(t.locale, t.version, t.saved_by_id) for t in reports.history(cycle)] == [
        ("en", 1, secretariat.id), ("fr", 2, member.id), ("fr", 1, member.id)]
    assert db.session.query(JuryReportText).count() == 3
    saved = db.session.query(AuditEntry).filter_by(action="report.saved").all()
    assert [e.data for e in saved] == [{"locale": "fr", "version": 1}, {"locale": "fr", "version": 2},
                                       {"locale": "en", "version": 1}]  # no text in the log

    with pytest.raises(RuleViolation) as refused:
        reports.save_report(cycle, "en", "Not mine.", {}, actor=other, now=SAVED)
    assert refused.value.reason.code == "report.not_rapporteur"


def test_the_report_waits_for_the_count_and_the_rapporteur_for_the_board(db, make_city, make_user, make_cycle):
    secretariat, representative = make_user(Role.SECRETARIAT), make_user(Role.REPRESENTATIVE)
    early = make_cycle(Phase.VOTING_OPEN, year=2033)
    with pytest.raises(RuleViolation) as refused:
        reports.save_report(early, "en", "Too early.", {}, actor=secretariat, now=SAVED)
    assert refused.value.reason.code == "report.too_early"
    with pytest.raises(RuleViolation) as refused:
        reports.assign_rapporteur(early, representative, actor=secretariat, now=SAVED)
    assert refused.value.reason.code == "report.rapporteur_not_board"


def test_nothing_of_the_report_is_public_before_the_announcement_time(db, make_city):
    cycle = make_counted_cycle(db, make_city)
    add_report(db, cycle, first="fr")
    assert reports.public_report(cycle, BEFORE, "en") is None
    assert reports.public_citations(cycle, BEFORE) == {}

    shown = reports.public_report(cycle, AFTER, "zh")
    assert (shown.locale, shown.is_fallback, shown.languages) == ("fr", True, ["en", "fr"])
    assert shown.citation == CITATION["fr"].split("\n\n")
    assert [(note.city.name_latin, note.paragraphs) for note in shown.finalists] == [
        ("Tunis", ["Tunis a réuni ses quartiers."])]
    english = reports.public_report(cycle, AFTER, "en")
    assert (english.locale, english.is_fallback) == ("en", False)
    assert reports.public_citations(cycle, AFTER) == CITATION


def test_the_reasons_are_kept_by_criterion_and_shown_in_the_criteria_order(db, make_city, make_user):
    cycle = make_counted_cycle(db, make_city, phase=Phase.TALLIED)
    inclusive, reach = add_criteria(db, cycle)
    secretariat = make_user(Role.SECRETARIAT)
    # Reasons for a criterion of no cycle, and empty ones, are dropped.
    reports.save_report(cycle, "en", "Palermo.", {}, actor=secretariat, now=SAVED,
                        reasons={str(reach.id): " Ten twin cities. ", str(inclusive.id): "Everyone.", "999999": "No.",
                                 "x": "No."})
    reports.save_report(cycle, "fr", "Palerme.", {}, actor=secretariat, now=SAVED,
                        reasons={str(inclusive.id): "Tout le monde.", str(reach.id): "  "})
    db.session.commit()
    texts = reports.current_texts(reports.report_of(cycle))
    assert texts["en"].reasons == {str(reach.id): "Ten twin cities.", str(inclusive.id): "Everyone."}
    assert texts["fr"].reasons == {str(inclusive.id): "Tout le monde."}
    english = reports.report_view(cycle, "en")
    assert [(note.criterion_id, note.paragraphs) for note in english.reasons] == [
        (inclusive.id, ["Everyone."]), (reach.id, ["Ten twin cities."])]
    assert [note.criterion_id for note in reports.report_view(cycle, "fr").reasons] == [inclusive.id]

    with pytest.raises(RuleViolation) as refused:
        reports.save_report(cycle, "en", "Palermo.", {}, actor=secretariat, now=SAVED,
                            reasons={str(reach.id): "Thanks to TUN1-0000-0000-0004.", str(inclusive.id): "y" * 1501})
    assert sorted((r.code, r.params["key"]) for r in refused.value.reasons) == [
        ("report.reason_long", str(inclusive.id)), ("report.reason_receipt", str(reach.id))]


def test_the_reasons_wait_for_the_announcement_like_the_citation(db, make_city):
    cycle = make_counted_cycle(db, make_city)
    criteria = add_criteria(db, cycle)
    add_report(db, cycle, reasons=reasons_of(criteria))
    assert reports.public_reasons(cycle, BEFORE) == {}
    shown = reports.public_reasons(cycle, AFTER)
    assert [note["paragraphs"] for note in shown["fr"]] == [[REASONS["fr"][0]]]
    assert [(note["criterion_id"], note["texts"][0]["name"]) for note in shown["en"]] == [
        (criteria[0].id, "Inclusive city"), (criteria[1].id, "Reichweite")]
