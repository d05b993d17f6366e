"""Every page of every role passes axe-core (WCAG 2.2 AA, zero violations of any impact) in English and
Arabic, at desktop and phone width, and never scrolls sideways on a phone (issue 8).

axe-core comes from the npm registry (`make browser` installs it under build/axe, ignored by git); it is
injected into each page by Playwright, with the page's CSP bypassed for that script only.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.models import Cycle
from capital.models.types import utcnow
from capital.services import nominations as service
from capital.services.dispatch import commit
from tests.browser.test_nomination_journey import sign_in
from tests.conftest import pdf_bytes

AXE = Path(__file__).resolve().parents[2] / "build" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (1280, 390)
PHONE_WIDTHS = (320, 390)
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                                                      "best-practice"]},
               "resultTypes": ["violations"]}


@pytest.fixture
def world(db, make_city, make_user, make_cycle):
    """A cycle with open nominations, a draft of Düsseldorf and a submitted dossier of Venlo; one person per role."""
    now = utcnow()
    duesseldorf = make_city("Düsseldorf", country="DE", timezone="Europe/Berlin")
    venlo = make_city("Venlo", country="NL", timezone="Europe/Amsterdam")
    make_city("تونس", country="TN", timezone="Africa/Tunis")
    cycle = make_cycle()
    db.session.add(Cycle(year=2019, celebration_date=date(2019, 5, 16), phase=Phase.ANNOUNCED,
                         capital_city_id=duesseldorf.id, phase_changed_dt=now, created_dt=now))
    people = {
        "representative": make_user(Role.REPRESENTATIVE, city=duesseldorf, email="rep@duesseldorf.example"),
        "board": make_user(Role.BOARD, email="board@capital.example"),
        "secretariat": make_user(Role.SECRETARIAT, email="secretariat@capital.example"),
    }
    venlo_rep = make_user(Role.REPRESENTATIVE, city=venlo, email="rep@venlo.example")
    draft = service.start_nomination(cycle, duesseldorf, duesseldorf, actor=people["representative"], now=now)
    submitted = service.start_nomination(cycle, venlo, venlo, actor=venlo_rep, now=now)
    service.save_dossier(submitted, service.DossierInput(
        title="Samen leven aan de Maas", texts={"en": ("Open doors and shared meals.", "A long table on the Maas.")},
        themes={service.Theme(1)}, expected_participants=5000, partners="Schools",
        budget_range=service.BudgetRange("100k_250k")), actor=venlo_rep, now=now)
    service.attach_file(submitted, "letter", "brief.pdf", pdf_bytes(), actor=venlo_rep, now=now)
    service.submit_nomination(submitted, actor=venlo_rep, now=now)
    commit()
    return {"people": people, "cycle": cycle, "draft": draft.id, "submitted": submitted.id,
            "city": duesseldorf.id, "person": venlo_rep.id}


def pages_of(role: str, world: dict) -> list[str]:
    cycle, draft, submitted = world["cycle"].id, world["draft"], world["submitted"]
    common = ["/", "/nominees", "/account/settings", "/account/security"]
    return {
        "public": ["/", "/nominees", "/account/login", "/account/password-reset", "/about/contact",
                   "/about/help", "/about/privacy", "/about/accessibility"],
        "representative": common + ["/city/", f"/city/nominations/{draft}", f"/city/nominations/{draft}/edit",
                                    f"/city/nominations/{draft}/submit", f"/city/nominations/{draft}/withdraw",
                                    f"/city/nominations/{submitted}"],
        "board": common + ["/board/", "/review/board"],
        "secretariat": common + [
            "/secretariat/", "/secretariat/cycles", f"/secretariat/cycles/{cycle}",
            f"/secretariat/cycles/{cycle}/edit", "/secretariat/cycles/new",
            f"/secretariat/cycles/{cycle}/phase/nominations_closed", "/secretariat/cities",
            f"/secretariat/cities/{world['city']}", "/secretariat/cities/new", "/secretariat/people",
            f"/secretariat/people/{world['person']}", "/secretariat/invitations", "/secretariat/mail",
            "/review/", f"/review/{submitted}", "/account/security/app", "/account/security/passkeys/new"],
    }[role]


def axe_violations(page) -> list[str]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    return [f"{v['id']} ({v['impact']}): {[node['target'] for node in v['nodes']][:3]}" for v in result["violations"]]


def sideways_scroll(page) -> int:
    """How many CSS pixels the page is wider than the window (0 when it reflows)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def check_page(page, url: str, problems: list[str]) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for violation in axe_violations(page):
            problems.append(f"{url} at {width} px: {violation}")
    for width in PHONE_WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        if (extra := sideways_scroll(page)) > 0:
            problems.append(f"{url} at {width} px scrolls sideways by {extra} px")


def visitor(page, live_server: str, problems: list[str]):
    """``visit(*urls)``: open each page (it must answer 200) and add what check_page finds to ``problems``."""

    def visit(*urls):
        for url in urls:
            response = page.goto(f"{live_server}{url}")
            assert response.status == 200, url
            check_page(page, url, problems)

    return visit


def axe_context(browser, locale: str):
    """A browser context in ``locale`` whose pages accept the injected axe-core script; and its page."""
    context = browser.new_context(locale=locale, bypass_csp=True, extra_http_headers={"Accept-Language": locale},
                                  viewport={"width": WIDTHS[0], "height": 900})
    context.set_default_timeout(15_000)
    return context, context.new_page()


@pytest.mark.parametrize("locale", ["en", "ar"])
@pytest.mark.parametrize("role", ["public", "representative", "board", "secretariat"])
def test_every_page_passes_axe_and_reflows(role, locale, world, live_server, browser, db):
    assert AXE.is_file(), "run `make browser` (it installs axe-core from the npm registry)"
    context, page = axe_context(browser, locale)
    try:
        if role != "public":
            person = world["people"][role]
            person.locale = locale  # a signed-in person reads their own language
            db.session.commit()
            sign_in(page, live_server, person.email)
        problems: list[str] = []
        for url in pages_of(role, world):
            response = page.goto(f"{live_server}{url}")
            assert response.status == 200, url
            assert page.locator("html").get_attribute("lang") == locale
            check_page(page, url, problems)
        # Error states: a refused sign-in, a dossier with a field error.
        if role == "public":
            page.goto(f"{live_server}/account/login")
            page.fill("#email", "nobody@capital.example")
            page.fill("#password", "wrong")
            page.click("#submit")
            page.wait_for_load_state()
            check_page(page, "/account/login (refused)", problems)
        if role == "representative":
            page.goto(f"{live_server}/city/nominations/{world['draft']}/edit")
            page.fill("#expected_participants", "0")
            page.click("#save")
            page.wait_for_load_state()
            assert page.locator(".error-summary").count() == 1
            check_page(page, "dossier (refused)", problems)
        assert not problems, "\n".join(problems)
    finally:
        context.close()


def test_primary_buttons_are_filled_and_focus_moves_to_the_error_summary(world, live_server, browser, db):
    context = browser.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    try:
        page.goto(f"{live_server}/account/login")
        submit = page.locator("#submit")
        background = submit.evaluate("el => getComputedStyle(el).backgroundColor")
        assert background == "rgb(11, 92, 173)"  # filled with the accent, not a white outline
        page.fill("#email", "nobody@capital.example")
        page.fill("#password", "wrong")
        page.click("#submit")
        page.wait_for_load_state()
        assert page.title().startswith("Error: ")
        assert page.evaluate("document.activeElement.classList.contains('error-summary')")
        page.keyboard.press("Tab")  # the first link of the summary, then follow it to the field
        page.keyboard.press("Enter")
        page.wait_for_timeout(100)
        assert page.evaluate("document.activeElement.id") == "password"
        ring = page.evaluate("el => getComputedStyle(el).outlineColor",
                             page.evaluate_handle("document.activeElement"))
        assert ring == "rgb(27, 31, 36)"  # the dark ring: 15:1 on the light page (the old yellow was 1.8:1)
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["ar", "zh"])
def test_phone_screenshots_of_the_dossier_and_the_cycle_page(locale, world, live_server, browser, db, screenshot):
    context = browser.new_context(locale=locale, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        for role in ("representative", "secretariat"):
            person = world["people"][role]
            person.locale = locale
            db.session.commit()
        sign_in(page, live_server, world["people"]["representative"].email)
        page.goto(f"{live_server}/city/nominations/{world['draft']}/edit")
        screenshot(page, f"dossier-{locale}")
        page.fill("#expected_participants", "0")
        page.click("#save")
        page.wait_for_load_state()
        assert page.locator(".error-summary").count() == 1 and sideways_scroll(page) <= 0
        screenshot(page, f"dossier-error-{locale}")
        page.click("button.link-button")  # sign out
        page.wait_for_load_state()
        sign_in(page, live_server, world["people"]["secretariat"].email)
        page.goto(f"{live_server}/secretariat/cycles/{world['cycle'].id}")
        assert sideways_scroll(page) <= 0
        # Phone tables are stacked rows whose cells keep their column's name.
        label = page.evaluate("getComputedStyle(document.querySelector('table.stack tbody td'), '::before').content")
        header = page.evaluate("document.querySelector('table.stack thead th').textContent.replace(/[▲▼]/g, '').trim()")
        assert label.strip('"') == header and header
        page.goto(f"{live_server}/secretariat/cities")  # a listing labelled by the script from its headers
        assert page.evaluate("getComputedStyle(document.querySelector('tbody td'), '::before').content") not in (
            "none", "normal", '""')
        page.goto(f"{live_server}/secretariat/cycles/{world['cycle'].id}")
        screenshot(page, f"cycle-{locale}")
    finally:
        context.close()


def test_the_board_page_says_when_voting_is_open(world, live_server, browser, db):
    cycle = world["cycle"]
    cycle.phase = Phase.VOTING_OPEN
    cycle.nominations_close_dt = utcnow() - timedelta(days=2)
    cycle.voting_open_dt = utcnow() - timedelta(days=1)
    db.session.commit()
    context = browser.new_context()
    page = context.new_page()
    try:
        sign_in(page, live_server, world["people"]["board"].email)
        page.goto(f"{live_server}/board/")
        assert "Voting is open" in page.content()
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["en", "fr", "de", "es", "ar", "zh", "ru"])
def test_the_widest_pages_reflow_at_320_px_in_every_language(locale, world, live_server, browser, db):
    context = browser.new_context(locale=locale, viewport={"width": 320, "height": 800})
    page = context.new_page()
    try:
        for role, urls in (
            ("representative", ["/account/settings", f"/city/nominations/{world['submitted']}",
                                f"/city/nominations/{world['draft']}/edit", "/city/"]),
            ("secretariat", [f"/secretariat/cycles/{world['cycle'].id}", f"/secretariat/cycles/{world['cycle'].id}/edit",
                             "/secretariat/cities/new", f"/secretariat/people/{world['person']}",
                             f"/review/{world['submitted']}"]),
        ):
            person = world["people"][role]
            person.locale = locale
            db.session.commit()
            sign_in(page, live_server, person.email)
            wide = []
            for url in urls:
                page.goto(f"{live_server}{url}")
                if (extra := sideways_scroll(page)) > 0:
                    wide.append(f"{url}: {extra} px")
            assert not wide, wide
            page.click("button.link-button")  # sign out
            page.wait_for_load_state()
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_the_vote_and_the_public_record_pass_axe_and_reflow(locale, live_server, browser, db, make_vote):
    """The board's ballot (blank, refused, reviewed, cast), the roll, the results, the announcement's
    public pages and the subscription form: the pages the vote and the public site added."""
    from capital.services import voting
    from capital.services.cycles import change_phase

    assert AXE.is_file(), "run `make browser` (it installs axe-core from the npm registry)"
    now = utcnow().replace(microsecond=0)
    vote = make_vote(terms=(now.date() - timedelta(days=400), date(2031, 12, 31)))
    vote.open(now - timedelta(hours=1))
    member, year = vote.members[0], vote.cycle.year
    for person in (member, vote.secretariat):
        person.locale = locale
    db.session.commit()
    context, page = axe_context(browser, locale)
    problems: list[str] = []
    visit = visitor(page, live_server, problems)

    try:
        sign_in(page, live_server, member.email)
        visit("/board/", "/board/vote", "/board/vote/roll", "/board/vote/conflict")
        page.goto(f"{live_server}/board/vote")
        page.click(f"form[action='/board/vote/review'] button[type=submit]")  # nothing ranked: refused
        page.wait_for_load_state()
        assert page.locator(".error-summary").count() == 1
        check_page(page, "ballot (refused)", problems)
        page.fill(f"#rank_{vote.nominations[0].id}", "1")
        page.click(f"form[action='/board/vote/review'] button[type=submit]")
        page.wait_for_load_state()
        check_page(page, "ballot review", problems)
        page.click("button[name=cast]")
        page.wait_for_load_state()
        check_page(page, "receipt", problems)
        ids = [n.id for n in vote.nominations]
        for voter in vote.members[1:4]:  # a quorum, so the count designates a capital
            voting.cast_ballot(vote.cycle, voter, [[ids[1]], [ids[0]]], now=now)
        db.session.commit()
        vote.close(now)
        cycle = db.session.get(Cycle, vote.cycle_id)
        change_phase(cycle, Phase.TALLIED, actor=vote.secretariat, now=now, by_hand=True)
        db.session.commit()
        visit("/board/results")
        change_phase(cycle, Phase.ANNOUNCED, actor=vote.secretariat, now=now, by_hand=True)
        db.session.commit()
        page.click("button.link-button")  # sign out
        page.wait_for_load_state()
        visit("/", "/archive", f"/{year}", f"/vote/{year}", "/subscribe")
        sign_in(page, live_server, vote.secretariat.email)
        visit("/secretariat/", "/board/results", "/board/results/runner-up", "/board/vote/roll",
              "/account/confirm-password")
        assert not problems, "\n".join(problems)
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_the_second_factor_pages_pass_axe_and_reflow(locale, live_server, browser, db, make_user, screenshot):
    """Setting up an app before anything else (plain, refused), the recovery codes shown once, the second
    step of signing in (plain, refused), the sign-in security with a passkey, renaming it, and confirming
    it is you with a code (refused)."""
    import pyotp
    from flask import current_app

    from capital.models import Passkey
    from tests.conftest import PASSWORD, second_factor_code

    assert AXE.is_file(), "run `make browser` (it installs axe-core from the npm registry)"
    newcomer = make_user(Role.SECRETARIAT, second_factor=False, locale=locale)
    member = make_user(Role.SECRETARIAT, locale=locale)
    db.session.add(Passkey(user_id=member.id, credential_id=b"laptop", public_key=b"key", name="Laptop"))
    db.session.commit()
    context, page = axe_context(browser, locale)
    problems: list[str] = []

    def password(email):
        page.goto(f"{live_server}/account/login")
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.click("#submit")
        page.wait_for_load_state()

    def submit(name, code):
        page.fill("#code", code)
        page.click("#submit")
        page.wait_for_load_state()
        if name:
            check_page(page, name, problems)

    try:
        password(newcomer.email)
        assert "/account/security/app" in page.url
        check_page(page, "set up an app (half signed in)", problems)
        screenshot(page, f"set-up-an-app-{locale}")  # as check_page left it: a 390 px phone
        key = page.inner_text("#key").replace(" ", "")
        submit("set up an app (refused)", "000000" if pyotp.TOTP(key).now() != "000000" else "111111")
        assert page.locator(".error-summary").count() == 1
        submit("recovery codes", pyotp.TOTP(key).now())
        assert page.locator(".recovery-codes li").count() == 10
        screenshot(page, f"recovery-codes-{locale}")
        page.click("a.button.primary")
        page.click("button.link-button")  # sign out
        page.wait_for_load_state()

        password(member.email)
        assert "/account/two-factor" in page.url
        check_page(page, "second step", problems)
        submit("second step (refused)", "abcde-fghjk")
        assert page.locator(".error-summary").count() == 1
        submit(None, second_factor_code(current_app._get_current_object(), member.email))
        passkey = db.session.scalar(db.select(Passkey))
        for url in ("/account/security", f"/account/security/passkeys/{passkey.id}"):
            assert page.goto(f"{live_server}{url}").status == 200
            check_page(page, url, problems)
        page.goto(f"{live_server}/account/confirm-password")
        page.fill("#password", PASSWORD)
        submit("confirm it is you (refused)", "999999" if second_factor_code(current_app._get_current_object(), member.email) != "999999"
               else "888888")
        assert page.locator(".error-summary").count() == 1
        assert not problems, "\n".join(problems)
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_the_shortlist_pages_pass_axe_and_reflow(locale, live_server, browser, db, make_shortlist_vote, make_user):
    """The board's shortlist ballot (blank, refused, reviewed, cast), the count before its publication (as the
    board and the secretariat), the published shortlist on the public pages and a finalist's page with its
    update form: the pages the shortlist added."""
    from capital.services import voting
    from capital.services.cycles import change_phase

    assert AXE.is_file(), "run `make browser` (it installs axe-core from the npm registry)"
    now = utcnow().replace(microsecond=0)
    vote = make_shortlist_vote(now)
    member, ids = vote.members[0], vote.ids()
    venlo = next(n for n in vote.nominations if n.host_city.name == "Venlo")
    representative = make_user(Role.REPRESENTATIVE, city=venlo.nominating_city, locale=locale)
    member.locale = locale
    db.session.commit()
    context, page = axe_context(browser, locale)
    problems: list[str] = []

    visit = visitor(page, live_server, problems)

    try:
        sign_in(page, live_server, member.email)
        visit("/board/", "/board/shortlist")
        page.click("form[action='/board/shortlist/review'] button[type=submit]")  # nothing ticked: refused
        page.wait_for_load_state()
        assert page.locator(".error-summary").count() == 1
        check_page(page, "shortlist ballot (refused)", problems)
        page.check(f"#approve_{ids['Venlo']}")
        page.click("form[action='/board/shortlist/review'] button[type=submit]")
        page.wait_for_load_state()
        check_page(page, "shortlist review", problems)
        page.click("button[name=cast]")
        page.wait_for_load_state()
        assert page.locator(".receipt .code").count() == 1
        check_page(page, "shortlist receipt", problems)
        for voter in vote.members[1:]:
            voting.cast_ballot(vote.cycle, voter, ((ids["Venlo"],),), now=now, shortlist=True)
            db.session.commit()
        cycle = db.session.get(Cycle, vote.cycle_id)
        change_phase(cycle, Phase.SHORTLIST_COUNTED, actor=vote.secretariat, now=now, by_hand=True)
        vote.secretariat.locale = locale
        db.session.commit()
        # The count before its publication, as the board and as the secretariat (who may publish it).
        visit("/board/", "/board/shortlist/results")
        assert page.locator("table.stack caption").count() == 1
        page.click("button.link-button")  # sign out
        page.wait_for_load_state()
        sign_in(page, live_server, vote.secretariat.email)
        visit(f"/secretariat/cycles/{cycle.id}", "/board/shortlist/results")
        assert page.locator("a.button.primary[href$='/phase/shortlisted']").count() == 1
        change_phase(cycle, Phase.SHORTLISTED, actor=vote.secretariat, now=now, by_hand=True)
        db.session.commit()
        page.click("button.link-button")  # sign out
        page.wait_for_load_state()
        visit("/nominees", f"/{cycle.year}")
        assert page.locator(".tag").count() == 1
        sign_in(page, live_server, representative.email)
        visit(f"/city/nominations/{venlo.id}")
        assert page.locator("input[name=update]").count() == 1
        assert not problems, "\n".join(problems)
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_the_audit_log_pages_pass_axe_and_reflow(locale, world, live_server, browser, db, make_user):
    """The audit log (plain, filtered, refused filter), its chain intact and broken, as the secretariat;
    the audit log and the mail log as an observer."""
    from sqlalchemy import text

    observer = make_user(Role.OBSERVER, email="observer@capital.example", locale=locale)
    secretariat = world["people"]["secretariat"]
    secretariat.locale = locale
    db.session.commit()
    context, page = axe_context(browser, locale)
    problems: list[str] = []
    visit = visitor(page, live_server, problems)

    try:
        sign_in(page, live_server, secretariat.email)
        visit("/secretariat/audit", f"/secretariat/audit?cycle={world['cycle'].id}&action=nomination.submitted",
              "/secretariat/audit/chain")
        page.goto(f"{live_server}/secretariat/audit?since=2031-03-16&until=2031-03-10")
        assert page.locator(".error-summary").count() == 1
        check_page(page, "audit log (refused filter)", problems)
        with db.engine.begin() as connection:
            connection.execute(text("""UPDATE audit_log SET data = '{"edited": true}' WHERE seq = 2"""))
        page.goto(f"{live_server}/secretariat/audit/chain")
        assert page.locator(".error-summary").count() == 1
        check_page(page, "audit chain (broken)", problems)
        page.click("button.link-button")  # sign out
        page.wait_for_load_state()
        sign_in(page, live_server, observer.email)
        visit("/secretariat/audit", "/secretariat/mail")
        assert not problems, "\n".join(problems)
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_a_dossier_saved_in_between_passes_axe_and_reflows(locale, world, live_server, browser, db, make_user,
                                                           screenshot):
    """The dossier form and the submission's confirmation, each refused because another person of the city
    saved the dossier in between (issue 19, item 4)."""
    from capital.models import City, Nomination

    assert AXE.is_file(), "run `make browser` (it installs axe-core from the npm registry)"
    person = world["people"]["representative"]
    person.locale = locale
    colleague = make_user(Role.REPRESENTATIVE, city=db.session.get(City, world["city"]), name="Clara Colleague")
    db.session.commit()
    draft = db.session.get(Nomination, world["draft"])

    def colleague_saves(title):
        service.save_dossier(draft, service.DossierInput(
            title=title, host_city_id=world["city"], texts={"en": ("Open doors.", "A long table on the Rhine.")},
            themes={service.Theme(1)}, expected_participants=900, partners="Schools",
            budget_range=service.BudgetRange("under_10k")), actor=colleague, now=utcnow())
        commit()

    context, page = axe_context(browser, locale)
    problems: list[str] = []
    try:
        sign_in(page, live_server, person.email)
        page.goto(f"{live_server}/city/nominations/{world['draft']}/edit")
        colleague_saves("Saved by the colleague")
        page.fill("#title", "Typed meanwhile")
        page.click("#save")
        page.wait_for_load_state()
        assert page.locator(".error-summary").count() == 1 and page.locator("#conflict").count() == 1
        check_page(page, "dossier (saved in between)", problems)
        screenshot(page, f"saved-in-between-{locale}")

        service.attach_file(draft, "letter", "letter.pdf", pdf_bytes(), actor=colleague, now=utcnow())
        commit()
        page.goto(f"{live_server}/city/nominations/{world['draft']}/submit")
        colleague_saves("Changed before the confirmation")
        page.click("form.form button[type=submit]")
        page.wait_for_load_state()
        assert page.locator(".error-summary").count() == 1 and page.locator("#conflict").count() == 1
        check_page(page, "submission (saved in between)", problems)
        assert not problems, "\n".join(problems)
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_the_import_pages_pass_axe_and_reflow(locale, live_server, browser, db, make_user, tmp_path):
    """The secretariat's import: the form (plain, refused), a checked file with refused lines, a big file's
    progress page, and the import's report (issue 19, item 2)."""
    from capital.services import onboarding
    from tests.services.test_onboarding import CITIES

    assert AXE.is_file(), "run `make browser` (it installs axe-core from the npm registry)"
    member = make_user(Role.SECRETARIAT, locale=locale)
    path = tmp_path / "cities.csv"
    path.write_bytes(CITIES)
    context, page = axe_context(browser, locale)
    problems: list[str] = []
    try:
        sign_in(page, live_server, member.email)
        page.goto(f"{live_server}/secretariat/onboarding")
        check_page(page, "import", problems)
        page.click("form.form [type=submit]")
        page.wait_for_load_state()
        assert page.locator(".error-summary").count() == 1
        check_page(page, "import (refused)", problems)
        page.check("#kind-0")
        page.set_input_files("#file", str(path))
        page.click("form.form [type=submit]")
        page.wait_for_load_state()
        assert page.locator("table.stack tbody tr").count() == 4
        check_page(page, "checked file", problems)
        page.click("form[action$='/import'] [type=submit]")
        page.wait_for_load_state()
        check_page(page, "imported file", problems)
        big = ("name,name_latin,country,time_zone,email\n" + "".join(
            f"C{n},C{n},DE,Europe/Berlin,c{n}@city.example\n" for n in range(onboarding.BACKGROUND_LINES + 1))).encode()
        job = onboarding.start_import("cities", "big.csv", big, dry_run=True, actor=member, now=utcnow())
        db.session.commit()  # not dispatch's commit: the task does not start, the job waits
        page.goto(f"{live_server}/secretariat/onboarding/{job.id}")
        assert page.locator("progress").count() == 1
        check_page(page, "progress", problems)
        onboarding.run_job(job.id, utcnow())  # with JavaScript, the page follows on its own
        page.wait_for_selector("table.stack tbody tr", timeout=15_000)
        assert page.locator("progress").count() == 0
        assert not problems, "\n".join(problems)
    finally:
        context.close()
