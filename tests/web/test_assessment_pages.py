"""The assessment pages as the panel, the secretariat and everyone else see them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from capital.domain.nominations import NominationState
from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.models import AssessmentScore, Nomination, Recusal
from capital.services.criteria import cycle_criteria, give_criteria
from tests.conftest import NOW, WebClient


class Setting:
    def __init__(self, db, make_cycle, make_city, make_user):
        self.cycle = make_cycle(Phase.ASSESSMENT, close_in=timedelta(days=-5), has_assessment=True,
                                assessment_open_dt=NOW - timedelta(days=4), assessment_close_dt=NOW + timedelta(days=5))
        give_criteria(self.cycle)
        self.nominations = []
        for host in ("Lyon", "Venlo"):
            city = make_city(host)
            self.nominations.append(Nomination(cycle_id=self.cycle.id, nominating_city_id=city.id, host_city_id=city.id,
                                               title=f"{host} together", state=NominationState.ELIGIBLE))
        db.session.add_all(self.nominations)
        db.session.commit()
        self.criteria = cycle_criteria(self.cycle)
        self.expert = make_user(Role.ASSESSOR, name="Ana Experta", locale="es")
        self.member = make_user(Role.BOARD, name="Board Member")

    def form(self, client, nomination, score="3", note="Sólido.", **extra):
        data = {}
        for criterion in self.criteria:
            data[f"score_{criterion.id}"] = score
            data[f"note_{criterion.id}"] = note
        return client.post(f"/assessment/dossiers/{nomination.id}", {**data, "save": "1", **extra})

    def close(self, db):
        self.cycle.assessment_close_dt = NOW - timedelta(seconds=1)
        self.cycle.phase = Phase.ASSESSED
        db.session.commit()


@pytest.fixture
def setting(db, make_cycle, make_city, make_user):
    return Setting(db, make_cycle, make_city, make_user)


def test_an_expert_saves_a_draft_in_spanish_and_finds_it_as_typed(client, setting, db):
    client.login(setting.expert.email)
    page = client.get("/assessment/").get_data(as_text=True)
    assert '<html lang="es"' in page and "Evaluación de los expedientes" in page
    assert "0 de 7 criterios" in page
    lyon = setting.nominations[0]
    response = setting.form(client, lyon, "4", "Un programa sólido con socios en cada barrio.")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Se guardó su borrador." in page
    assert page.count('value="4"') == 7 and page.count("Un programa sólido con socios en cada barrio.") == 7
    assert "7 de 7 criterios" in client.get("/assessment/").get_data(as_text=True)


def test_a_score_off_the_scale_is_refused_at_its_field_and_what_was_typed_stays(client, setting, db):
    client.login(setting.expert.email)
    first = setting.criteria[0]
    page = setting.form(client, setting.nominations[0], "4", "Nota larga escrita con cuidado",
                        **{f"score_{first.id}": "9"}).get_data(as_text=True)
    assert "There is a problem" not in page and "Hay un problema" in page
    assert f'<a href="#score_{first.id}">Indique un número entero de 0 a 5.</a>' in page
    assert f'id="score_{first.id}-error"' in page and 'value="9"' in page
    assert page.count("Nota larga escrita con cuidado") == 7
    assert db.session.scalar(select(AssessmentScore.id)) is None


def test_an_incomplete_submission_lists_what_is_missing_and_keeps_the_drafts(client, setting, db):
    client.login(setting.member.email)
    setting.form(client, setting.nominations[0])
    page = client.post("/assessment/submit", {"submit": "1"}).get_data(as_text=True)
    assert "Your assessment is not complete yet" in page
    assert f'href="/assessment/dossiers/{setting.nominations[1].id}">Venlo</a>' in page
    assert f'/assessment/dossiers/{setting.nominations[0].id}">Lyon' not in page
    assert len(db.session.scalars(select(AssessmentScore)).all()) == 7


def test_once_submitted_the_assessment_is_read_only(client, setting, db):
    client.login(setting.member.email)
    for nomination in setting.nominations:
        setting.form(client, nomination)
    response = client.post("/assessment/submit", {"submit": "1"})
    assert response.status_code == 302
    page = client.get("/assessment/").get_data(as_text=True)
    assert "You have submitted your assessment: it can no longer change." in page
    page = client.get(f"/assessment/dossiers/{setting.nominations[0].id}").get_data(as_text=True)
    assert "<textarea" not in page and "You have submitted your assessment" in page
    page = setting.form(client, setting.nominations[0], "5").get_data(as_text=True)
    assert "You have submitted your assessment: it can no longer change." in page
    assert {row.score for row in db.session.scalars(select(AssessmentScore))} == {3}


def test_nobody_sees_the_comparison_before_the_deadline(app, client, setting, db, make_user):
    client.login(setting.member.email)
    for nomination in setting.nominations:
        setting.form(client, nomination)
    client.post("/assessment/submit", {"submit": "1"})
    response = client.get("/assessment/compare")
    assert response.status_code == 403
    assert "Sólido." not in response.get_data(as_text=True)
    secretariat = WebClient(app.test_client())
    secretariat.login(make_user(Role.SECRETARIAT).email)
    assert secretariat.get("/assessment/compare").status_code == 403


def test_after_the_deadline_the_comparison_shows_each_criterion_and_the_notes_with_their_authors(
        app, client, setting, db, make_user):
    client.login(setting.member.email)
    for nomination, score in zip(setting.nominations, ("5", "1")):
        setting.form(client, nomination, score, f"Note {score}")
    client.post("/assessment/submit", {"submit": "1"})
    expert = WebClient(app.test_client())
    expert.login(setting.expert.email)
    for nomination in setting.nominations:
        setting.form(expert, nomination, "3", "Nota")
    expert.post("/assessment/submit", {"submit": "1"})
    setting.close(db)
    page = client.get("/assessment/compare").get_data(as_text=True)
    assert page.index(">Lyon</a>") < page.index(">Venlo</a>")  # highest total first
    assert "mean 4.0 · median 4 · spread 3–5" in page and "mean 2.0 · median 2 · spread 1–3" in page
    assert "<strong>80.0</strong>" in page and "<strong>40.0</strong>" in page
    assert "<strong>Ana Experta</strong> (3): Nota" in page and "<strong>Board Member</strong> (5): Note 5" in page
    ascending = client.get("/assessment/compare?sort=total&dir=asc").get_data(as_text=True)
    assert ascending.index(">Venlo</a>") < ascending.index(">Lyon</a>")
    assert client.get("/assessment/compare").headers["Cache-Control"] == "no-store"


def test_a_panel_member_who_did_not_submit_sees_no_comparison_after_the_deadline(client, setting, db):
    client.login(setting.expert.email)
    setting.close(db)
    assert client.get("/assessment/compare").status_code == 403


def test_a_recused_board_member_neither_assesses_nor_sees(client, setting, db):
    db.session.add(Recusal(cycle_id=setting.cycle.id, user_id=setting.member.id, reason="My city", declared_dt=NOW))
    db.session.commit()
    client.login(setting.member.email)
    page = client.get("/assessment/").get_data(as_text=True)
    assert "You stood aside from this cycle" in page and "/assessment/dossiers/" not in page
    assert client.get(f"/assessment/dossiers/{setting.nominations[0].id}").status_code == 403
    setting.close(db)
    assert client.get("/assessment/compare").status_code == 403


@pytest.mark.parametrize("role", [None, Role.REPRESENTATIVE])
def test_the_public_and_cities_never_reach_scores_or_notes(client, setting, db, make_user, make_city, role):
    setting.close(db)
    if role is not None:
        client.login(make_user(role, city=make_city()).email)
    for url in ("/assessment/", "/assessment/compare", f"/assessment/dossiers/{setting.nominations[0].id}"):
        response = client.get(url)
        assert response.status_code in (302, 403), url
        if response.status_code == 302:
            assert "/account/login" in response.headers["Location"]


def test_an_expert_reads_the_eligible_dossiers(client, setting):
    client.login(setting.expert.email)
    page = client.get("/review/board").get_data(as_text=True)
    assert "Lyon together" in page and "Venlo together" in page
    assert client.get(f"/city/nominations/{setting.nominations[0].id}").status_code == 200
    assert client.get("/dashboard").headers["Location"].endswith("/assessment/")


def test_no_public_page_feed_or_api_reads_the_assessment():
    from capital.config import ROOT

    public = [*(ROOT / "capital" / "public").rglob("*.py"), *(ROOT / "capital" / "api").rglob("*.py"),
              ROOT / "capital" / "services" / "public.py"]
    assert len(public) > 5
    readers = [path.name for path in public if re.search(r"\bAssessment|services\.assessment|services import assessment",
                                                         path.read_text("utf-8"))]
    assert readers == []


def test_the_comparison_and_the_dashboard_keep_their_queries_whatever_the_number_of_dossiers(
        client, setting, db, make_city):
    from capital.models import Assessment, AssessmentScore
    from tests.web.test_query_counts import queries_for

    def grow(count):
        for _ in range(count):
            city = make_city()
            db.session.add(Nomination(cycle_id=setting.cycle.id, nominating_city_id=city.id, host_city_id=city.id,
                                      title="More", state=NominationState.ELIGIBLE))
        db.session.commit()
        assessment = db.session.scalar(select(Assessment))
        for nomination in db.session.scalars(select(Nomination).where(Nomination.cycle_id == setting.cycle.id)):
            for criterion in setting.criteria:
                if db.session.scalar(select(AssessmentScore.id).where(
                        AssessmentScore.nomination_id == nomination.id,
                        AssessmentScore.criterion_id == criterion.id)) is None:
                    db.session.add(AssessmentScore(assessment_id=assessment.id, nomination_id=nomination.id,
                                                   criterion_id=criterion.id, score=2, note="n"))
        db.session.commit()

    client.login(setting.member.email)
    for nomination in setting.nominations:
        setting.form(client, nomination)
    client.post("/assessment/submit", {"submit": "1"})
    setting.close(db)
    few = queries_for(client, db, "/assessment/compare"), queries_for(client, db, "/assessment/")
    grow(12)
    many = queries_for(client, db, "/assessment/compare"), queries_for(client, db, "/assessment/")
    assert many == few


def test_an_expert_declares_a_conflict_and_then_neither_assesses_nor_sees(client, setting, db):
    client.login(setting.expert.email)
    assert "/board/vote/conflict" in client.get("/assessment/").get_data(as_text=True)
    response = client.post("/board/vote/conflict", {"reason": "I advised the Lyon dossier"})
    assert response.headers["Location"].endswith("/assessment/")
    page = client.get("/assessment/").get_data(as_text=True)
    assert "Se ha abstenido en este ciclo: no evalúa ni ve las evaluaciones." in page
    assert client.get(f"/assessment/dossiers/{setting.nominations[0].id}").status_code == 403


def test_the_shortlist_ballot_shows_the_weighted_totals_to_a_member_who_may_see_them(
        app, client, db, make_vote):
    from capital.domain.assessment import Entry
    from capital.models.types import utcnow
    from capital.services import assessment
    from capital.services.cycles import change_phase

    now = utcnow().replace(microsecond=0)
    vote = make_vote(hosts=("Palermo", "Venlo"), members=2,
                     terms=(now.date() - timedelta(days=400), now.date() + timedelta(days=400)),
                     has_assessment=True, assessment_open_dt=now - timedelta(days=20),
                     assessment_close_dt=now - timedelta(hours=2), shortlist_size=1,
                     shortlist_open_dt=now - timedelta(hours=1), shortlist_close_dt=now + timedelta(days=7),
                     shortlist_publication_dt=now + timedelta(days=8), finalist_update_close_dt=now + timedelta(days=9))
    vote.cycle.nominations_open_dt, vote.cycle.nominations_close_dt = now - timedelta(days=60), now - timedelta(days=30)
    vote.cycle.phase = Phase.ASSESSMENT
    give_criteria(vote.cycle)
    db.session.commit()
    scores = {"Palermo": "5", "Venlo": "1"}
    for member in vote.members[:1]:
        entries = [Entry(n.id, c.id, scores[n.host_city.name], "Note") for n in vote.nominations
                   for c in cycle_criteria(vote.cycle)]
        assessment.save_assessment(vote.cycle, entries, actor=member, now=now - timedelta(hours=3))
        assessment.submit_assessment(vote.cycle, actor=member, now=now - timedelta(hours=3))
    change_phase(vote.cycle, Phase.ASSESSED, actor=vote.secretariat, now=now - timedelta(minutes=40), by_hand=True)
    change_phase(vote.cycle, Phase.SHORTLIST_VOTING, actor=vote.secretariat, now=now - timedelta(minutes=30),
                 by_hand=True)
    db.session.commit()
    client.login(vote.members[0].email)
    page = client.get("/board/shortlist").get_data(as_text=True)
    assert "Assessment: 100 / 100." in page and "Assessment: 20 / 100." in page  # 5 and 1 of 0–5
    other = WebClient(app.test_client())
    other.login(vote.members[1].email)  # on the panel, did not submit: sees no total
    assert "Assessment:" not in other.get("/board/shortlist").get_data(as_text=True)
