"""The secretariat's cycle screens: list, create, edit, detail and phase changes by hand."""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.domain.timeline import default_timeline, next_cycle_year
from capital.models import AuditEntry, Cycle
from capital.models.types import utcnow
from capital.services.cycles import CycleSettings, create_cycle, cycle_timeline

YEAR = utcnow().year + 2  # far enough ahead that every default deadline is in the future
FORMAT = "%Y-%m-%dT%H:%M"


def form_data(timeline, settings=CycleSettings(), zone=UTC, **overrides):
    data = {name: value.astimezone(zone).strftime(FORMAT) for name, value in timeline.deadlines().items()}
    data |= {"method": settings.method, "quorum_percent": str(settings.quorum_share * 100),
             "max_rounds": settings.max_rounds, "recent_capital_years": settings.rules.recent_capital_years,
             "title_words": settings.rules.dossier_limits.title, "summary_words": settings.rules.dossier_limits.summary,
             "programme_words": settings.rules.dossier_limits.programme,
             "nomination_reminder_days": ", ".join(map(str, settings.nomination_reminder_days))}
    switches = {"is_secret": settings.is_secret, "allows_ballot_replacement": settings.allows_ballot_replacement,
                "requires_recusal": settings.requires_recusal,
                **{name: getattr(settings.rules, name) for name in (
                    "nominator_in_good_standing", "host_in_good_standing", "one_nomination_per_city",
                    "host_consent_letter", "dossier_complete")}}
    data |= {name: "y" for name, on in switches.items() if on}
    return data | overrides


@pytest.fixture
def secretariat(make_user, client):
    user = make_user(Role.SECRETARIAT)
    client.login(user.email)
    return user


@pytest.fixture
def draft(db, make_user):
    # Without the optional stages, as every cycle before them (tests/web/test_cycle_stages_form.py has them).
    cycle = create_cycle(YEAR, settings=CycleSettings(), actor="cli", now=utcnow())
    db.session.commit()
    return cycle


def _pages(cycle_id):
    return ["/secretariat/cycles", "/secretariat/cycles/new", f"/secretariat/cycles/{cycle_id}",
            f"/secretariat/cycles/{cycle_id}/edit", f"/secretariat/cycles/{cycle_id}/phase/nominations_open"]


def test_every_cycle_page_opens_for_the_secretariat(client, secretariat, draft):
    for url in _pages(draft.id):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", [Role.BOARD, Role.REPRESENTATIVE])
def test_cycle_pages_and_actions_are_refused_to_other_roles(client, make_user, make_city, db, draft, role):
    user = make_user(role, city=make_city() if role == Role.REPRESENTATIVE else None)
    client.login(user.email)
    for url in _pages(draft.id):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/secretariat/cycles/{draft.id}/phase/nominations_open").status_code == 403
    new_cycle = form_data(default_timeline(YEAR + 1), year=YEAR + 1)
    assert client.post("/secretariat/cycles/new", new_cycle).status_code == 403
    db.session.expire_all()
    assert db.session.get(Cycle, draft.id).phase == Phase.DRAFT
    assert db.session.scalar(select(func.count(Cycle.id))) == 1


def test_the_new_cycle_form_is_filled_with_the_defaults_and_creates_a_draft(client, secretariat, db):
    page = client.get("/secretariat/cycles/new").get_data(as_text=True)
    default = default_timeline(next_cycle_year(utcnow().date()))  # the same year the demo uses
    assert f'value="{default.nominations_open_dt.strftime(FORMAT)}"' in page
    response = client.post("/secretariat/cycles/new", form_data(default_timeline(YEAR), year=YEAR))
    assert response.status_code == 302, response.get_data(as_text=True)
    cycle = db.session.scalar(select(Cycle).where(Cycle.year == YEAR))
    assert cycle.phase == Phase.DRAFT
    assert cycle_timeline(cycle) == default_timeline(YEAR)
    assert CycleSettings.of(cycle) == CycleSettings()
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Cycle created" in detail and "(UTC+00:00)" in detail


def test_deadlines_are_read_in_the_secretariat_members_time_zone(client, secretariat, db):
    secretariat.timezone = "Europe/Berlin"
    db.session.commit()
    zone = ZoneInfo("Europe/Berlin")
    response = client.post("/secretariat/cycles/new", form_data(default_timeline(YEAR), zone=zone, year=YEAR))
    assert response.status_code == 302
    cycle = db.session.scalar(select(Cycle).where(Cycle.year == YEAR))
    assert cycle.nominations_open_dt == default_timeline(YEAR).nominations_open_dt  # 14:00 in Berlin, 12:00 UTC
    assert "Berlin time (CEST, UTC+02:00)" in client.get(f"/secretariat/cycles/{cycle.id}").get_data(as_text=True)


def test_copy_last_years_settings_prefills_the_form(client, secretariat, db):
    settings = CycleSettings(method="borda", max_rounds=3, is_secret=False)
    previous = create_cycle(YEAR, settings=settings, actor=secretariat, now=utcnow())
    db.session.commit()
    page = client.get("/secretariat/cycles/new?start=copy").get_data(as_text=True)
    assert f'value="{YEAR + 1}"' in page
    assert '<option selected value="borda">' in page
    assert f'name="copy_from" type="hidden" value="{previous.id}"' in page
    assert '<option selected value="schulze">' in client.get("/secretariat/cycles/new").get_data(as_text=True)

    response = client.post("/secretariat/cycles/new", form_data(
        default_timeline(YEAR + 1), settings, year=YEAR + 1, copy_from=previous.id))
    assert response.status_code == 302
    cycle = db.session.scalar(select(Cycle).where(Cycle.year == YEAR + 1))
    assert CycleSettings.of(cycle) == settings
    created = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "cycle.created",
                                                         AuditEntry.cycle_id == cycle.id))
    assert created.data["copied_from"] == YEAR


def test_a_second_cycle_for_the_same_year_is_refused(client, secretariat, draft, db):
    response = client.post("/secretariat/cycles/new", form_data(default_timeline(YEAR), year=YEAR))
    assert response.status_code == 200
    assert f"There is already a cycle for {YEAR}." in response.get_data(as_text=True)


def test_an_edit_with_deadlines_out_of_order_shows_why_and_changes_nothing(client, secretariat, draft, db):
    timeline = default_timeline(YEAR)
    data = form_data(timeline, CycleSettings(method="irv"),
                     voting_open_dt=timeline.nominations_open_dt.strftime(FORMAT))
    response = client.post(f"/secretariat/cycles/{draft.id}/edit", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    # The rule's reason is in the error summary, linked to the field, and at the field itself.
    assert page.count("Voting must open after the nomination deadline.") == 2
    assert '<a href="#voting_open_dt">Voting must open after the nomination deadline.</a>' in page
    assert re.search(r'<p class="error" id="voting_open_dt-error">.*Voting must open', page)
    assert re.search(r'<input[^>]*aria-describedby="voting_open_dt-error"[^>]*aria-invalid="true"[^>]*'
                     r'id="voting_open_dt"', page)
    assert "<title>Error: " in page
    db.session.expire_all()
    cycle = db.session.get(Cycle, draft.id)
    assert cycle_timeline(cycle) == timeline and cycle.method == "schulze"
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "cycle.updated")) == 0


def test_an_edit_is_saved(client, secretariat, draft, db):
    response = client.post(f"/secretariat/cycles/{draft.id}/edit",
                           form_data(default_timeline(YEAR), CycleSettings(method="irv")))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Cycle, draft.id).method == "irv"


def test_a_phase_change_by_hand_is_confirmed_then_applied_and_audited(client, secretariat, draft, db):
    url = f"/secretariat/cycles/{draft.id}/phase/nominations_open"
    page = client.get(url).get_data(as_text=True)
    assert "Member cities can file and submit nominations" in page
    assert "confirming now makes it happen earlier" in page
    db.session.expire_all()
    assert db.session.get(Cycle, draft.id).phase == Phase.DRAFT  # looking changes nothing
    assert client.raw.post(url).status_code == 400  # no CSRF token
    response = client.post(url)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Cycle, draft.id).phase == Phase.NOMINATIONS_OPEN
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "cycle.phase_changed"))
    assert entry.actor_id == secretariat.id and entry.data["by_hand"] is True
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Phase changed from “Draft” to “Nominations open”" in detail and secretariat.name in detail


def test_skipping_a_phase_is_refused_with_the_reason(client, secretariat, draft, db):
    url = f"/secretariat/cycles/{draft.id}/phase/voting_open"
    for send in (client.get, client.post):
        response = send(url)
        assert response.status_code == 302
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "The cycle can&#39;t move directly from its current phase to that one." in page
    db.session.expire_all()
    assert db.session.get(Cycle, draft.id).phase == Phase.DRAFT
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "cycle.phase_changed")) == 0


def test_an_unknown_phase_or_cycle_is_not_found(client, secretariat, draft):
    assert client.get(f"/secretariat/cycles/{draft.id}/phase/party").status_code == 404
    assert client.get("/secretariat/cycles/999999").status_code == 404


def test_the_list_links_to_each_cycle(client, secretariat, draft):
    page = client.get("/secretariat/cycles?sort=year&dir=desc").get_data(as_text=True)
    assert f'href="/secretariat/cycles/{draft.id}"' in page


def test_the_archive_cycle_without_deadlines_shows(client, secretariat, db):
    archive = Cycle(year=2019, celebration_date=datetime(2019, 5, 16).date(), phase=Phase.ANNOUNCED)
    db.session.add(archive)
    db.session.commit()
    page = client.get(f"/secretariat/cycles/{archive.id}")
    assert page.status_code == 200
    assert client.get(f"/secretariat/cycles/{archive.id}/edit").status_code == 200


def test_the_reminder_days_are_a_setting_of_the_cycle(client, secretariat, db):
    timeline = default_timeline(YEAR)
    refused = client.post("/secretariat/cycles/new",
                          form_data(timeline, year=YEAR, nomination_reminder_days="14, three"))
    assert refused.status_code == 200
    page = refused.get_data(as_text=True)
    assert "Give whole numbers of days from 1 to 365, separated by commas." in page
    assert 'value="14, three"' in page  # what was typed is kept
    assert db.session.scalar(select(func.count(Cycle.id))) == 0

    response = client.post("/secretariat/cycles/new",
                           form_data(timeline, year=YEAR, nomination_reminder_days="7; 21, 2"))
    assert response.status_code == 302, response.get_data(as_text=True)
    cycle = db.session.scalar(select(Cycle).where(Cycle.year == YEAR))
    assert cycle.nomination_reminder_days == [21, 7, 2]
    assert "21, 7, 2" in client.get(response.headers["Location"]).get_data(as_text=True)
