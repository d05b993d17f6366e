"""In Arabic (right to left), on a phone, with the keyboard alone: a board member ticks nominations for the
shortlist, is told at the field that they ticked too many, reviews the approvals in words, casts the
ballot and gets the receipt."""


from sqlalchemy import select

from capital.models import Ballot
from capital.models.types import utcnow
from tests.browser.test_ballot_journey import activate, tab_to
from tests.browser.test_nomination_journey import sign_in


def test_a_board_member_approves_a_shortlist_with_the_keyboard_in_arabic(live_server, new_page, screenshot,
                                                                         make_shortlist_vote, db):
    now = utcnow().replace(microsecond=0)
    vote = make_shortlist_vote(now, hosts=("تونس", "Palermo", "Lyon"))
    member = vote.members[0]
    member.locale = "ar"
    db.session.commit()
    tunis, palermo, lyon = (f"#approve_{n.id}" for n in vote.nominations)

    page = new_page("ar", width=390, height=844)
    sign_in(page, live_server, member.email)
    page.goto(f"{live_server}/board/shortlist")
    assert page.locator("html").get_attribute("dir") == "rtl"
    screenshot(page, "1-shortlist-ballot")

    for box in (tunis, palermo, lyon):  # three of a shortlist of two: too many
        tab_to(page, box)
        page.keyboard.press("Space")
    activate(page, "button[type=submit].primary")
    summary = page.locator(".error-summary")
    assert summary.count() == 1 and "وافق على 2 من الترشيحات على الأكثر" in summary.inner_text()
    assert page.locator(lyon).is_checked()  # what was ticked is kept
    screenshot(page, "2-too-many")

    tab_to(page, lyon)
    page.keyboard.press("Space")  # untick Lyon
    activate(page, "button[type=submit].primary")
    assert page.locator(".ranking-words").inner_text().strip() == "Palermo, تونس"  # in the ballot's order
    screenshot(page, "3-review")
    activate(page, "button[name=cast]")
    code = page.locator(".receipt .code").first.inner_text().strip()
    [ballot] = db.session.scalars(select(Ballot)).all()
    assert ballot.receipt_code == code and ballot.voter_id is None
    assert ballot.ranking == [sorted([vote.nominations[0].id, vote.nominations[1].id])]
    screenshot(page, "4-receipt")
