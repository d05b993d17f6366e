"""The cycle form's assessment and shortlist: prefilled on, dates needed only for a stage held."""

from datetime import UTC

from sqlalchemy import func, select

from capital.domain.roles import Role
from capital.domain.timeline import default_timeline, next_cycle_year
from capital.models import Cycle
from capital.models.types import utcnow
from capital.services.cycles import NEW_CYCLE_SETTINGS, CycleSettings, cycle_timeline
from tests.web.test_secretariat_cycles import FORMAT, YEAR, form_data

STAGED = default_timeline(YEAR, has_assessment=True, has_shortlist=True)


def staged_form(timeline=STAGED, settings=NEW_CYCLE_SETTINGS, **overrides):
    data = form_data(timeline, settings, year=YEAR, shortlist_size=str(settings.shortlist_size))
    if settings.has_assessment:
        data["has_assessment"] = "y"
    return data | overrides


def _login_secretariat(make_user, client):
    client.login(make_user(Role.SECRETARIAT).email)


def test_the_new_cycle_form_offers_both_stages_with_their_dates(client, make_user):
    _login_secretariat(make_user, client)
    page = client.get("/secretariat/cycles/new").get_data(as_text=True)
    proposed = default_timeline(next_cycle_year(utcnow().date()), has_assessment=True, has_shortlist=True)
    assert "Assessment and shortlist" in page
    assert 'id="has_assessment" name="has_assessment" type="checkbox" value="y"' in page and "checked" in page
    assert 'name="shortlist_size" type="number" value="5"' in page or 'value="5"' in page
    for name in ("assessment_open_dt", "shortlist_publication_dt", "finalist_update_close_dt"):
        assert f'value="{getattr(proposed, name).astimezone(UTC).strftime(FORMAT)}"' in page, name


def test_a_staged_cycle_is_created_with_its_stage_dates(client, make_user, db):
    _login_secretariat(make_user, client)
    response = client.post("/secretariat/cycles/new", staged_form())
    assert response.status_code == 302, response.get_data(as_text=True)
    cycle = db.session.scalar(select(Cycle).where(Cycle.year == YEAR))
    assert CycleSettings.of(cycle) == NEW_CYCLE_SETTINGS
    assert cycle_timeline(cycle) == STAGED
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Shortlist publication" in detail and "Deadline for the finalists' updated dossiers" in detail


def test_a_missing_stage_date_is_shown_at_its_field_and_creates_nothing(client, make_user, db):
    _login_secretariat(make_user, client)
    response = client.post("/secretariat/cycles/new", staged_form(shortlist_close_dt=""))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'class="error-summary"' in page and "Give this date, or turn this stage off." in page
    assert 'href="#shortlist_close_dt"' in page
    assert db.session.scalar(select(func.count(Cycle.id))) == 0


def test_stage_dates_out_of_order_are_refused_at_their_field(client, make_user, db):
    _login_secretariat(make_user, client)
    early = STAGED.assessment_open_dt.strftime(FORMAT)
    response = client.post("/secretariat/cycles/new", staged_form(shortlist_open_dt=early))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The shortlist vote must open after the assessment deadline." in page
    assert 'href="#shortlist_open_dt"' in page


def test_with_both_stages_off_the_stage_dates_are_ignored(client, make_user, db):
    _login_secretariat(make_user, client)
    plain = default_timeline(YEAR)
    data = staged_form(plain, CycleSettings(), shortlist_size="0",
                       assessment_open_dt="not a date", shortlist_open_dt="")
    response = client.post("/secretariat/cycles/new", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    cycle = db.session.scalar(select(Cycle).where(Cycle.year == YEAR))
    assert not cycle.has_assessment and cycle.shortlist_size == 0 and cycle.assessment_open_dt is None
    assert cycle_timeline(cycle) == plain


def test_a_shortlist_of_one_is_refused_at_its_field(client, make_user, db):
    _login_secretariat(make_user, client)
    page = client.post("/secretariat/cycles/new", staged_form(shortlist_size="1")).get_data(as_text=True)
    assert "A shortlist has from 2 to 50 finalists; give 0 for no shortlist." in page
    assert 'href="#shortlist_size"' in page
