"""Sessions that end: a captured cookie is worthless after sign-out, a password reset, deactivation or a
role change; sessions expire when idle and after a fixed time; signed-in pages are not cached; the
secretariat types its password again before changing a phase by hand."""

import re
import time

import pytest
from sqlalchemy import func, select

from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.models import Cycle, Invitation, Mail
from tests.conftest import PASSWORD, WebClient

LINK = re.compile(r"http://127\.0\.0\.1:5000(/account/password-reset/[^\s\"<]+)")


def _thief(app, victim: WebClient) -> WebClient:
    """Another browser holding a copy of ``victim``'s session cookie and a CSRF token from its pages."""
    cookie = victim.raw.get_cookie("session")
    thief = WebClient(app.test_client())
    thief.raw.set_cookie("session", cookie.value)
    return thief


def _assert_refused(thief: WebClient, db):
    """The copied cookie no longer opens a page nor lets a form through."""
    page = thief.get("/secretariat/")
    assert page.status_code == 302 and "/account/login" in page.headers["Location"]
    before = db.session.scalar(select(func.count(Invitation.id)))
    response = thief.post("/secretariat/invitations", {
        "email": "mallory@evil.example", "role": int(Role.SECRETARIAT), "city_id": 0, "locale": "en"})
    assert response.status_code in (302, 400)
    assert "/secretariat" not in response.headers.get("Location", "")
    assert db.session.scalar(select(func.count(Invitation.id))) == before


def _capture(app, client, db):
    thief = _thief(app, client)
    assert thief.get("/secretariat/").status_code == 200  # the copy works while the session lives
    thief.csrf_token()
    return thief


def test_a_cookie_copied_before_sign_out_is_refused_after_it(app, client, make_user, db):
    user = make_user(Role.SECRETARIAT)
    client.login(user.email)
    thief = _capture(app, client, db)
    client.post("/account/logout")
    _assert_refused(thief, db)


def test_signing_out_ends_the_sessions_on_other_devices_too(app, client, make_user):
    user = make_user(Role.BOARD)
    client.login(user.email)
    laptop = WebClient(app.test_client())
    laptop.login(user.email)
    client.post("/account/logout")
    assert laptop.get("/board/").status_code == 302


def test_a_password_reset_ends_earlier_sessions(app, client, make_user, db):
    user = make_user(Role.SECRETARIAT)
    client.login(user.email)
    thief = _capture(app, client, db)
    owner = WebClient(app.test_client())
    owner.post("/account/password-reset", {"email": user.email})
    link = LINK.search(db.session.scalar(select(Mail).where(Mail.kind == "password_reset")).body_text).group(1)
    assert owner.post(link, {"password": "a brand new password", "confirm": "a brand new password"}).status_code == 302
    _assert_refused(thief, db)
    assert client.get("/secretariat/").status_code == 302  # the owner's old session too


def test_deactivation_ends_sessions_and_reactivation_does_not_revive_them(app, client, make_user, db):
    user = make_user(Role.SECRETARIAT)
    client.login(user.email)
    thief = _capture(app, client, db)
    admin = WebClient(app.test_client())
    admin.login(make_user(Role.SECRETARIAT).email)
    admin.post(f"/secretariat/people/{user.id}/deactivate")
    admin.post(f"/secretariat/people/{user.id}/reactivate")
    _assert_refused(thief, db)


def test_a_role_change_ends_the_person_s_sessions(app, client, make_user, make_city, db):
    user = make_user(Role.SECRETARIAT, Role.BOARD)
    client.login(user.email)
    thief = _capture(app, client, db)
    admin = WebClient(app.test_client())
    admin.login(make_user(Role.SECRETARIAT).email)
    assert admin.post(f"/secretariat/people/{user.id}/roles/{int(Role.BOARD)}/revoke").status_code == 302
    _assert_refused(thief, db)
    client.login(user.email)  # signing in again works, with the new roles
    assert client.get("/board/").status_code == 403


def test_signing_in_starts_a_new_session_with_a_new_csrf_token(app, client, make_user, db):
    user = make_user(Role.SECRETARIAT)
    before = client.csrf_token()
    planted = client.raw.get_cookie("session").value  # e.g. a session fixed by an attacker
    client.login(user.email)
    after = client.csrf_token()
    assert after != before
    refused = client.post("/secretariat/invitations", {
        "email": "x@city.example", "role": int(Role.BOARD), "city_id": 0, "locale": "en", "csrf_token": before})
    assert refused.status_code == 400
    assert db.session.scalar(select(func.count(Invitation.id))) == 0
    attacker = WebClient(app.test_client())
    attacker.raw.set_cookie("session", planted)
    assert attacker.get("/secretariat/").status_code == 302  # the pre-login cookie did not become signed in


def _age_session(client, **seconds_ago):
    with client.raw.session_transaction() as session:
        for key, seconds in seconds_ago.items():
            session[f"_{key}_at"] = int(time.time()) - seconds


def test_an_idle_session_ends(client, make_user, app):
    user = make_user(Role.SECRETARIAT)
    client.login(user.email)
    _age_session(client, seen=app.config["SESSION_IDLE_MINUTES"] * 60 - 30)
    assert client.get("/secretariat/").status_code == 200  # still inside the idle time
    _age_session(client, seen=app.config["SESSION_IDLE_MINUTES"] * 60 + 30)
    response = client.get("/secretariat/")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_a_busy_session_still_ends_after_its_maximum_lifetime(client, make_user, app):
    user = make_user(Role.SECRETARIAT)
    client.login(user.email)
    _age_session(client, login=app.config["SESSION_MAX_HOURS"] * 3600 - 60, seen=10)
    assert client.get("/secretariat/").status_code == 200
    _age_session(client, login=app.config["SESSION_MAX_HOURS"] * 3600 + 60, seen=10)
    assert client.get("/secretariat/").status_code == 302


def test_session_lifetimes_are_settings(tmp_path, monkeypatch):
    from capital.config import Config, ConfigError

    monkeypatch.setenv("CAPITAL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("CAPITAL_SESSION_IDLE_MINUTES", "15")
    monkeypatch.setenv("CAPITAL_SESSION_MAX_HOURS", "4")
    config = Config()
    assert (config.SESSION_IDLE_MINUTES, config.SESSION_MAX_HOURS) == (15, 4)
    monkeypatch.setenv("CAPITAL_SESSION_IDLE_MINUTES", "0")
    with pytest.raises(ConfigError, match="CAPITAL_SESSION_IDLE_MINUTES"):
        Config()


def test_signed_in_pages_are_not_stored_by_caches(client, make_user):
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    user = make_user(Role.SECRETARIAT)
    client.login(user.email)
    for url in ("/", "/secretariat/", "/account/settings"):
        response = client.get(url)
        assert response.headers["Cache-Control"] == "no-store", url


@pytest.fixture
def draft(make_cycle):
    return make_cycle(Phase.DRAFT)


def test_changing_a_phase_by_hand_asks_for_the_password_again(client, make_user, draft, db):
    user = make_user(Role.SECRETARIAT)
    client.login(user.email)
    url = f"/secretariat/cycles/{draft.id}/phase/nominations_open"
    _age_session(client, auth=11 * 60)

    shown = client.get(url)
    assert shown.status_code == 302
    confirm = shown.headers["Location"]
    assert confirm.startswith("/account/confirm-password?next=")
    posted = client.post(url)
    assert posted.status_code == 302 and posted.headers["Location"].startswith("/account/confirm-password")
    assert db.session.get(Cycle, draft.id).phase == Phase.DRAFT  # nothing happened

    page = client.get(confirm).get_data(as_text=True)
    assert "Confirm it is you" in page
    wrong = client.post(confirm, {"password": "not my password"})
    assert wrong.status_code == 401 and "This is not your password." in wrong.get_data(as_text=True)
    right = client.post(confirm, {"password": PASSWORD})
    assert right.headers["Location"] == url  # back to where they were
    assert client.get(url).status_code == 200
    client.post(url)
    assert db.session.get(Cycle, draft.id).phase == Phase.NOMINATIONS_OPEN


@pytest.mark.parametrize("action", ["board-term", "grant", "revoke", "deactivate"])
def test_changing_who_is_on_the_roll_asks_for_the_password_again(client, make_user, db, action):
    from capital.models import BoardTerm, User

    user = make_user(Role.SECRETARIAT)
    member = make_user(Role.BOARD)
    client.login(user.email)
    _age_session(client, auth=11 * 60)
    person = f"/secretariat/people/{member.id}"
    url, data = {
        "board-term": (f"{person}/board-terms", {"starts_on": "2031-01-01", "ends_on": "2031-12-31"}),
        "grant": (f"{person}/roles", {"role": str(int(Role.SECRETARIAT))}),
        "revoke": (f"{person}/roles/{int(Role.BOARD)}/revoke", {}),
        "deactivate": (f"{person}/deactivate", {}),
    }[action]
    before = (sorted(int(grant.role) for grant in member.role_grants), len(member.board_terms), member.is_active)

    refused = client.post(url, data, headers={"Referer": f"http://localhost{person}"})
    assert refused.status_code == 302
    assert refused.headers["Location"].startswith("/account/confirm-password?next=")
    db.session.expire_all()
    member = db.session.get(User, member.id)
    after = (sorted(int(grant.role) for grant in member.role_grants), len(member.board_terms), member.is_active)
    assert after == before  # nothing changed
    assert db.session.query(BoardTerm).filter_by(user_id=member.id).count() == before[1]

    client.post(refused.headers["Location"], {"password": PASSWORD})
    assert client.post(url, data).status_code == 302
    db.session.expire_all()
    member = db.session.get(User, member.id)
    assert (sorted(int(grant.role) for grant in member.role_grants), len(member.board_terms),
            member.is_active) != before  # confirmed: it happens


def test_the_confirmation_page_is_translated(client, make_user, draft):
    user = make_user(Role.SECRETARIAT, locale="fr")
    client.login(user.email)
    _age_session(client, auth=3600)
    page = client.get(f"/account/confirm-password?next=/secretariat/cycles/{draft.id}").get_data(as_text=True)
    assert "Confirm it is you" not in page and "Confirmez" in page


def test_the_confirmation_does_not_redirect_to_another_site(client, make_user):
    user = make_user(Role.SECRETARIAT)
    client.login(user.email)
    response = client.post("/account/confirm-password?next=https://evil.example/", {"password": PASSWORD})
    assert response.headers["Location"] == "/dashboard"


def test_password_confirmation_attempts_are_throttled(client, make_user):
    user = make_user(Role.SECRETARIAT)
    client.login(user.email)
    statuses = [client.post("/account/confirm-password", {"password": "guess"}).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
