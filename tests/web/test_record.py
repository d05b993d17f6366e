"""The record of the designation: a PDF per language with the count, the checksums and the jury report,
the same bytes every time, public from the announcement; the board's version names the roll."""

import re
import subprocess
from pathlib import Path

import pytest

from capital.config import LOCALES
from capital.domain.roles import Role
from capital.models import Ballot, Result, VotingRound
from capital.public import clock
from capital.public.record import record_pdf
from tests.public_data import AFTER, BALLOTS, BEFORE, add_report, make_counted_cycle

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CITATIONS = {
    "en": "Palermo opened its squares to everyone.", "fr": "Palerme a ouvert ses places à tous.",
    "de": "Palermo hat seine Plätze für alle geöffnet.", "es": "Palermo abrió sus plazas a todos.",
    "ar": "فتحت باليرمو ساحاتها للجميع.", "zh": "巴勒莫向所有人敞开了广场。", "ru": "Палермо открыл свои площади для всех.",
}
_BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def pdf_text(content: bytes, tmp_path: Path) -> str:
    """The PDF's text as pdftotext (poppler-utils) reads it, bidi marks dropped, spaces made single."""
    path = tmp_path / "record.pdf"
    path.write_bytes(content)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True).stdout
    return " ".join(_BIDI_MARKS.sub("", text.decode()).split())


@pytest.fixture
def counted(db, make_city):
    cycle = make_counted_cycle(db, make_city)
    add_report(db, cycle, CITATIONS, notes={})
    return cycle


@pytest.mark.timeout(300)
def test_the_record_is_public_from_the_announcement_in_seven_languages(client, db, counted, monkeypatch, tmp_path):
    checksum = db.session.query(Result.checksum).scalar()
    monkeypatch.setattr(clock, "now", lambda: BEFORE)
    assert client.get("/vote/2031/record-en.pdf").status_code == 404
    monkeypatch.setattr(clock, "now", lambda: AFTER)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for locale in LOCALES:
        response = client.get(f"/vote/2031/record-{locale}.pdf")
        assert response.status_code == 200 and response.mimetype == "application/pdf", locale
        assert response.data.startswith(b"%PDF-")
        text = pdf_text(response.data, tmp_path)
        assert "Palermo" in text and "2031" in text and checksum in text, locale
        assert " ".join(CITATIONS[locale].split()) in text, locale
        assert "python -m capital.voting --method irv" in text, locale
        assert not [code for code, _ in BALLOTS if code in text], locale  # no receipt code, ever
        if locale in ("ar", "zh"):
            (tmp_path / "record.pdf").write_bytes(response.data)
            subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(tmp_path / "record.pdf"),
                            str(ARTIFACTS / f"record-{locale}-page-1")], check=True)
            assert (ARTIFACTS / f"record-{locale}-page-1.png").stat().st_size > 5000
    page = client.get("/2031", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'href="/vote/2031/record-zh.pdf"' in page


def test_the_same_inputs_give_the_same_bytes(app, counted):
    with app.app_context():
        first = record_pdf(counted, "ar", AFTER)
        again = record_pdf(counted, "ar", AFTER.replace(year=2040))  # read later: the same record
    assert first == again and first is not None


def test_the_board_version_names_the_roll_and_is_never_public(client, db, counted, make_user, monkeypatch, tmp_path):
    member = make_user(Role.BOARD, name="Amina Board", email="amina@board.example")
    voting_round = db.session.query(VotingRound).one()
    voting_round.roll = [member.id]
    db.session.commit()
    monkeypatch.setattr(clock, "now", lambda: AFTER)
    public_text = pdf_text(client.get("/vote/2031/record-en.pdf").data, tmp_path)
    assert "Amina Board" not in public_text and "Never publish it" not in public_text
    assert client.get("/board/record/2031/record-en.pdf").status_code == 302  # to the sign-in page
    representative = make_user(Role.REPRESENTATIVE, email="rep@city.example")
    client.login(representative.email)
    assert client.get("/board/record/2031/record-en.pdf").status_code == 403
    client.post("/account/logout")
    client.login(member.email)
    response = client.get("/board/record/2031/record-en.pdf")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    text = pdf_text(response.data, tmp_path)
    assert "Amina Board" in text and "Never publish it." in text
    assert not [code for code, _ in BALLOTS if code in text]


def test_a_record_is_laid_out_once_per_worker_and_follows_a_changed_report(app, db, counted):
    from capital.models import JuryReportText
    from capital.public.record import _layout

    with app.app_context():
        _layout.cache_clear()
        first = record_pdf(counted, "en", AFTER)
        assert record_pdf(counted, "en", AFTER) == first and _layout.cache_info().hits == 1
        text = db.session.query(JuryReportText).filter_by(locale="en").one()
        text.citation = "Palermo, a new citation."
        db.session.commit()
        assert record_pdf(counted, "en", AFTER) != first  # a new HTML, a new layout


@pytest.mark.timeout(300)
def test_the_record_of_a_cycle_with_a_shortlist_holds_it_and_the_phases_as_they_happened(app, db, make_vote,
                                                                                         tmp_path, monkeypatch):
    """A cycle driven through the services: the shortlist vote, its publication, the final vote among the
    finalists, the count and the announcement, each at its deadline."""
    from datetime import UTC, datetime, timedelta

    from capital.domain.phase import Phase
    from capital.services import voting
    from capital.services.cycles import advance_due_cycles
    from tests.services.test_shortlist import PUBLICATION, SHORTLIST_CLOSES, SHORTLIST_OPENS, UPDATES_CLOSE

    vote = make_vote(hosts=("Palermo", "Venlo", "Lyon", "Tunis"), members=7, shortlist_size=2,
                     shortlist_open_dt=SHORTLIST_OPENS, shortlist_close_dt=SHORTLIST_CLOSES,
                     shortlist_publication_dt=PUBLICATION, finalist_update_close_dt=UPDATES_CLOSE)
    ids = vote.ids()

    def step(now, phase):
        [change] = advance_due_cycles(now)
        assert change.phase == phase
        db.session.commit()

    step(SHORTLIST_OPENS, Phase.SHORTLIST_VOTING)
    for member, hosts in zip(vote.members, [("Palermo", "Venlo"), ("Venlo",), ("Lyon", "Venlo"), ("Venlo",),
                                             ("Palermo",)]):
        voting.cast_ballot(vote.cycle, member, (tuple(sorted(ids[h] for h in hosts)),),
                           now=SHORTLIST_OPENS + timedelta(days=1), shortlist=True)
        db.session.commit()
    step(SHORTLIST_CLOSES, Phase.SHORTLIST_COUNTED)
    step(PUBLICATION, Phase.SHORTLISTED)
    step(vote.OPENS, Phase.VOTING_OPEN)
    for member, first in zip(vote.members, ["Venlo", "Venlo", "Palermo", "Venlo"]):
        other = "Palermo" if first == "Venlo" else "Venlo"
        voting.cast_ballot(vote.cycle, member, ((ids[first],), (ids[other],)), now=vote.OPENS + timedelta(days=1))
        db.session.commit()
    step(vote.CLOSES, Phase.VOTING_CLOSED)
    step(vote.CLOSES + timedelta(seconds=1), Phase.TALLIED)
    announcement = vote.cycle.announcement_dt
    step(announcement, Phase.ANNOUNCED)
    assert voting.finalists(vote.cycle) == [ids["Venlo"], ids["Palermo"]]
    # The shortlist vote's files are published with the rest of the audit bundle, not a second earlier.
    from capital.public import clock

    client = app.test_client()
    for moment, status in ((announcement - timedelta(seconds=1), 404), (announcement, 200)):
        monkeypatch.setattr(clock, "now", lambda moment=moment: moment)
        answers = [client.get(f"/vote/2031/shortlist-{name}") for name in ("ballots.txt", "tally.json")]
        assert [answer.status_code for answer in answers] == [status, status]
    assert answers[0].get_data(as_text=True) == voting.shortlist_result(vote.cycle).ballot_file
    assert "shortlist-ballots.txt" in client.get("/vote/2031/SHA256SUMS").get_data(as_text=True)

    later = datetime(2032, 1, 1, tzinfo=UTC)
    content = record_pdf(vote.cycle, "en", later)
    assert record_pdf(vote.cycle, "en", later + timedelta(days=300)) == content  # the same bytes
    text = pdf_text(content, tmp_path)
    shortlist = text[text.index("The shortlist"):text.index("The board vote")]
    # The facts are two columns: pdftotext reads the labels, then the values.
    assert "Finalists on the shortlist Shortlist published Turnout Quorum" in shortlist
    assert "2 5 February 2031, 12:00" in shortlist
    assert "5 ballots of 7 board members (71%) met" in shortlist
    assert voting.shortlist_result(vote.cycle).checksum in shortlist
    assert "The finalists: Venlo, Palermo" in shortlist
    assert "Venlo 4 Yes Palermo 2 Yes Lyon 1 No Tunis 0 No" in shortlist  # the approvals, in the count's order
    assert "round 0" not in text  # the shortlist vote is not a round of the final vote
    recount = " ".join(text[text.index("How anyone can recount"):].split())
    assert "--method approval --seats 2" in recount and "shortlist-ballots.txt" in recount
    happened = text[text.index("As it happened"):text.index("Nominations ", text.index("As it happened"))]
    for title in ("Shortlist vote open", "Shortlist counted (not yet published)", "Shortlist published",
                  "Voting open", "Voting closed", "Tallied", "Announced"):
        assert title in happened, title
    assert not [code for (code,) in db.session.query(Ballot.receipt_code) if code in text]
