"""In Arabic (right to left), on a phone, with the keyboard alone: a board member ranks the
nominations, is told at the field what is wrong, reviews the ranking in words, casts the ballot
and gets the receipt."""

from datetime import date, timedelta

from sqlalchemy import select

from capital.models import Ballot, Participation
from capital.models.types import utcnow
from tests.browser.test_nomination_journey import sign_in


def tab_to(page, selector, limit=60):
    """Press Tab until ``selector`` has the focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never got the keyboard focus")


def choose(page, selector, key):
    """Tab to a rank field and type the rank, as on a keyboard (Tab selects what the field holds)."""
    tab_to(page, selector)
    page.keyboard.press(key)


def activate(page, selector):
    """Tab to a button or link and press Enter; wait for the page it leads to."""
    tab_to(page, selector)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_a_board_member_casts_a_ballot_with_the_keyboard_in_arabic(live_server, new_page, screenshot, make_vote, db):
    now = utcnow().replace(microsecond=0)
    vote = make_vote(hosts=("تونس", "Palermo", "Lyon"), terms=(now.date() - timedelta(days=400), date(2031, 12, 31)))
    vote.open(now - timedelta(hours=1))
    member = vote.members[0]
    member.locale = "ar"
    db.session.commit()
    tunis, palermo, lyon = (f"#rank_{n.id}" for n in vote.nominations)

    page = new_page("ar", width=390, height=844)  # a phone
    sign_in(page, live_server, member.email)
    page.goto(f"{live_server}/board/vote")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator(f"label[for='{tunis[1:]}']").inner_text().startswith("ترتيب تونس")
    screenshot(page, "1-ballot")

    # A rank skipped that no tie explains: 1 and 3.
    choose(page, tunis, "1")
    choose(page, lyon, "3")
    activate(page, "button[type=submit].primary")
    summary = page.locator(".error-summary")
    assert summary.count() == 1 and "لا يوجد ترشيح في المرتبة 2" in summary.inner_text()
    assert page.locator(lyon).get_attribute("aria-invalid") == "true"
    assert page.locator(tunis).input_value() == "1"  # what was chosen is kept
    screenshot(page, "2-error-at-the-field")
    assert db.session.query(Ballot).count() == 0

    # Follow the summary's link to the field, then fix the ranking: Tunis 1, Palermo 2, Lyon 2.
    tab_to(page, f".error-summary a[href='{lyon}']")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == lyon[1:]
    page.keyboard.press("Control+a")  # the rank is a text field: select what it holds, then type over it
    page.keyboard.press("2")
    choose(page, palermo, "2")
    activate(page, "button[type=submit].primary")
    assert "1. تونس 2. Palermo = Lyon" in page.locator(".ranking-words").inner_text()
    screenshot(page, "3-review-in-words")

    activate(page, "button[name=cast]")
    code = page.locator(".receipt .code").first.inner_text().strip()
    [ballot] = db.session.scalars(select(Ballot)).all()
    assert ballot.receipt_code == code and ballot.voter_id is None
    assert ballot.ranking == [[vote.nominations[0].id], sorted([vote.nominations[1].id, vote.nominations[2].id])]
    assert db.session.scalar(select(Participation.user_id)) == member.id
    assert "تُعرض هذه الصفحة مرة واحدة فقط" in page.content()
    screenshot(page, "4-receipt")

    page.goto(f"{live_server}/board/")
    assert "لقد صوّتَّ في هذه الجولة." in page.content()
    screenshot(page, "5-you-have-voted")
