"""The rapporteur writes the jury report (a refused draft, then a saved one, with reasons against the cycle's
criteria) and a reader finds it on the year page: every page axe-clean and reflowing at 320 px, in English
and Arabic."""

import pytest

from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.public import clock
from capital.services import reports
from tests.browser.test_accessibility import AXE, axe_context, check_page
from tests.browser.test_nomination_journey import sign_in
from tests.public_data import AFTER, ANNOUNCEMENT, add_criteria, make_counted_cycle


@pytest.mark.timeout(300)
@pytest.mark.parametrize("locale", ["en", "ar"])
def test_the_rapporteur_writes_the_report_and_a_reader_finds_it(locale, db, make_city, make_user, live_server,
                                                                  browser, screenshot, monkeypatch):
    assert AXE.is_file(), "run `make browser` (it installs axe-core from the npm registry)"
    cycle = make_counted_cycle(db, make_city, phase=Phase.TALLIED)
    inclusive, reach = add_criteria(db, cycle)  # named in English and French, and in German only
    member = make_user(Role.BOARD, email="rapporteur@board.example", locale=locale)
    reports.assign_rapporteur(cycle, member, actor=make_user(Role.SECRETARIAT), now=ANNOUNCEMENT)
    db.session.commit()
    context, page = axe_context(browser, locale)
    problems = []
    try:
        sign_in(page, live_server, member.email)
        page.goto(f"{live_server}/board/report/2031?lang={locale}")
        check_page(page, "/board/report/2031", problems)
        page.fill("#citation", "   ")  # not empty for the browser; nothing to the server
        page.click("#save-report")
        page.wait_for_load_state()
        assert page.locator(".error-summary a[href='#citation']").count() == 1
        check_page(page, "/board/report/2031 (refused)", problems)
        citation = {"en": "Palermo opened its squares to everyone.", "ar": "فتحت باليرمو ساحاتها للجميع."}[locale]
        page.fill("#citation", citation)
        reason = {"en": "Palermo welcomes newcomers in their own languages.",
                  "ar": "ترحب باليرمو بالوافدين الجدد بلغاتهم."}[locale]
        page.fill(f"#reason_{inclusive.id}", reason)
        page.fill(f"#reason_{reach.id}", {"en": "Ten twin cities will celebrate too.",
                                          "ar": "ستحتفل عشر مدن توأم أيضاً."}[locale])
        page.click("#save-report")
        page.wait_for_load_state()
        assert page.locator("table.stack tbody tr").count() == 1  # the draft in the history
        screenshot(page, f"report-form-{locale}")
        check_page(page, "/board/report/2031 (saved)", problems)

        cycle.phase = Phase.ANNOUNCED
        db.session.commit()
        monkeypatch.setattr(clock, "now", lambda: AFTER)
        reader, page = axe_context(browser, locale)
        try:
            page.goto(f"{live_server}/2031")
            assert page.locator("#jury-report ~ .report-text p").first.text_content() == citation
            assert page.locator("#jury-report ~ h4 + .report-text p").first.text_content() == reason
            assert page.locator("#jury-report ~ h4 span[lang=de]").text_content() == "Reichweite"
            screenshot(page, f"year-report-{locale}")
            check_page(page, "/2031 with the report", problems)
        finally:
            reader.close()
        assert not problems, "\n".join(problems)
    finally:
        context.close()
