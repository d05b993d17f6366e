"""Sign-in, invitations, password reset, rate limiting and CSRF, as a person meets them."""

import re
from datetime import timedelta

from sqlalchemy import delete, func, select

from capital.domain.roles import Role
from capital.models import AuditEntry, Invitation, Mail, User
from capital.models.types import utcnow
from tests.conftest import PASSWORD, second_factor_code

LINK = re.compile(r"(http://[^\s\"<]+/account/(?:invitation|password-reset)/[^\s\"<]+)")


def _link_in(mail: Mail) -> str:
    return LINK.search(mail.body_text).group(1).replace("http://127.0.0.1:5000", "")


def test_sign_in_with_the_right_password_opens_the_dashboard(client, make_user):
    user = make_user(Role.SECRETARIAT)
    response = client.login(user.email)
    assert response.headers["Location"].endswith("/dashboard")
    page = client.get("/secretariat/")
    assert page.status_code == 200
    assert "Member cities" in page.get_data(as_text=True)


def test_a_wrong_password_is_refused_with_a_clear_message(client, make_user, db):
    user = make_user(Role.SECRETARIAT)
    response = client.post("/account/login", {"email": user.email, "password": "not the password"})
    assert response.status_code == 401
    assert "Wrong e-mail address or password." in response.get_data(as_text=True)
    assert client.get("/secretariat/").status_code == 302  # still signed out
    assert db.session.get(User, user.id).last_login_dt is None


def test_sign_in_ignores_case_and_spaces_in_the_address(client, make_user):
    make_user(Role.BOARD, email="board.member@capital.example")
    client.login("  Board.Member@Capital.example ")
    assert client.get("/board/").status_code == 200


def test_a_deactivated_account_cannot_sign_in(client, make_user, db):
    user = make_user(Role.SECRETARIAT)
    user.is_active_account = False
    db.session.commit()
    response = client.post("/account/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 401


def test_sign_out_needs_a_post_with_the_csrf_token(client, make_user):
    user = make_user(Role.SECRETARIAT)
    client.login(user.email)
    assert client.get("/account/logout").status_code == 405
    assert client.post_raw("/account/logout").status_code == 400  # no token: refused
    assert client.get("/secretariat/").status_code == 200  # still signed in
    client.post("/account/logout")
    assert client.get("/secretariat/").status_code == 302


def test_a_form_without_csrf_token_is_refused_and_changes_nothing(client, make_user, db):
    secretariat = make_user(Role.SECRETARIAT)
    client.login(secretariat.email)
    response = client.post_raw("/secretariat/invitations", data={
        "email": "someone@city.example", "role": int(Role.BOARD), "city_id": 0, "locale": "en"})
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Invitation.id))) == 0
    assert db.session.scalar(select(func.count(Mail.id))) == 0


def test_a_forged_csrf_token_is_refused(client, make_user):
    response = client.post("/account/login", {"email": "x@y.example", "password": "p", "csrf_token": "forged"})
    assert response.status_code == 400


def test_failed_sign_ins_are_rate_limited(client, make_user):
    user = make_user(Role.SECRETARIAT)
    for _ in range(5):
        assert client.post("/account/login", {"email": user.email, "password": "wrong"}).status_code == 401
    blocked = client.post("/account/login", {"email": user.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)


def test_successful_sign_ins_do_not_count_against_the_limit(client, make_user):
    user = make_user(Role.SECRETARIAT)
    for _ in range(8):
        client.login(user.email)
        client.post("/account/logout")


def _invite(client, db, make_user, **fields):
    secretariat = make_user(Role.SECRETARIAT)
    client.login(secretariat.email)
    data = {"email": "new.member@city.example", "name": "Nadia", "role": int(Role.BOARD), "city_id": 0,
            "locale": "en"} | fields
    response = client.post("/secretariat/invitations", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    client.post("/account/logout")
    return db.session.scalar(select(Mail).where(Mail.kind == "invitation"))


def test_an_invitation_mail_lets_the_person_create_an_account_once(client, db, make_user, app):
    mail = _invite(client, db, make_user)
    assert mail.recipient == "new.member@city.example"
    assert mail.state.name == "SENT"  # in-process delivery, to the outbox folder
    assert any(app.config["MAIL_OUTBOX_DIR"].glob("*-invitation.eml"))
    link = _link_in(mail)

    page = client.get(link)
    assert page.status_code == 200 and "Create your account" in page.get_data(as_text=True)
    response = client.post(link, {"name": "Nadia Member", "password": "a long enough password",
                                  "confirm": "a long enough password"})
    assert response.status_code == 302
    user = User.by_email("new.member@city.example")
    assert user.roles == {Role.BOARD}
    assert user.password_hash.startswith("$argon2id$")
    assert client.get("/board/").status_code == 200  # signed in straight away

    client.post("/account/logout")
    again = client.get(link)
    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True)
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"invitation.sent", "invitation.accepted", "role.granted"} <= actions


def test_an_expired_invitation_is_refused(client, db, make_user):
    mail = _invite(client, db, make_user)
    invitation = db.session.scalar(select(Invitation))
    invitation.expires_dt = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.get(_link_in(mail))
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)
    assert User.by_email("new.member@city.example") is None


def test_a_tampered_or_withdrawn_invitation_is_refused(client, db, make_user):
    mail = _invite(client, db, make_user)
    link = _link_in(mail)
    assert client.get(link[:-3] + "abc").status_code == 410
    invitation = db.session.scalar(select(Invitation))
    invitation.revoked_dt = utcnow()
    db.session.commit()
    assert "withdrawn" in client.get(link).get_data(as_text=True)


def test_a_representative_invitation_needs_a_city(client, db, make_user, make_city):
    secretariat = make_user(Role.SECRETARIAT)
    client.login(secretariat.email)
    response = client.post("/secretariat/invitations", {
        "email": "rep@city.example", "role": int(Role.REPRESENTATIVE), "city_id": 0, "locale": "en"})
    assert response.status_code == 200
    assert "must be invited for a city" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Invitation.id))) == 0

    city = make_city("Venlo", country="NL")
    client.post("/secretariat/invitations", {
        "email": "rep@city.example", "role": int(Role.REPRESENTATIVE), "city_id": city.id, "locale": "en"})
    link = _link_in(db.session.scalar(select(Mail)))
    client.post("/account/logout")
    client.post(link, {"name": "Rep", "password": "a long enough password", "confirm": "a long enough password"})
    assert "Venlo" in client.get("/city/").get_data(as_text=True)


def test_password_reset_works_once(client, db, make_user):
    user = make_user(Role.SECRETARIAT)
    response = client.post("/account/password-reset", {"email": user.email})
    assert response.status_code == 302
    link = _link_in(db.session.scalar(select(Mail).where(Mail.kind == "password_reset")))
    new = "another long password"
    assert client.post(link, {"password": new, "confirm": new}).status_code == 302
    client.login(user.email, new)
    client.post("/account/logout")
    reused = client.post(link, {"password": "yet another password", "confirm": "yet another password"})
    assert reused.headers["Location"].endswith("/account/password-reset")
    client.login(user.email, new)  # the second use changed nothing


def test_password_reset_for_an_unknown_address_says_the_same_and_sends_nothing(client, db):
    response = client.post("/account/password-reset", {"email": "nobody@nowhere.example"}, follow_redirects=True)
    assert "If this address has an account" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Mail.id))) == 0


def test_sign_in_does_not_redirect_to_another_site(client, make_user):
    user = make_user(Role.SECRETARIAT)
    response = client.post("/account/login?next=https://evil.example/", {"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/account/two-factor"  # the secretariat's second step, then:
    response = client.post("/account/two-factor", {"code": second_factor_code(client.app, user.email)})
    assert response.headers["Location"] == "/dashboard"


def test_a_person_sets_their_language_and_time_zone(client, make_user, make_city, make_cycle, db):
    from zoneinfo import ZoneInfo

    city = make_city("Córdoba", country="ES", timezone="Europe/Madrid")
    user = make_user(Role.REPRESENTATIVE, city=city)
    cycle = make_cycle()
    client.login(user.email)
    page = client.get("/account/settings").get_data(as_text=True)
    assert "Europe/Madrid" in page  # the default: the city's time zone

    refused = client.post("/account/settings", {"name": "Ana", "locale": "es", "timezone": "Mars/Olympus"})
    assert "This is not a known time zone." in refused.get_data(as_text=True)
    assert db.session.get(User, user.id).timezone is None

    client.post("/account/settings", {"name": "Ana", "locale": "es", "timezone": "America/Bogota"})
    saved = db.session.get(User, user.id)
    assert (saved.name, saved.locale, saved.timezone) == ("Ana", "es", "America/Bogota")
    home = client.get("/").get_data(as_text=True)
    assert '<html lang="es"' in home
    offset = cycle.nominations_close_dt.astimezone(ZoneInfo("America/Bogota")).strftime("%z")
    assert f"(UTC{offset[:3]}:{offset[3:]})" in home


def test_a_reset_request_does_the_same_work_for_an_unknown_address_as_for_a_known_one(app, db, make_user, inbox,
                                                                                     monkeypatch):
    """Until the answer is sent, a known and an unknown address run the very same statements, and
    neither looks the address up nor talks to the mail server: that happens after the answer, so
    the answer's timing cannot tell whether the address has an account."""
    from tests.conftest import WebClient
    from tests.web.test_query_counts import counted

    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", inbox.port)
    monkeypatch.setitem(app.config, "CAPITAL_RESET_LIMIT", "1000 per hour")
    user = make_user(Role.BOARD)
    browser = WebClient(app.test_client())
    token = browser.csrf_token()
    before_answer = {}
    for kind, email in (("known", user.email), ("unknown", "nobody@nowhere.example")):
        with counted(db) as statements:
            response = browser.raw.post("/account/password-reset", data={"email": email, "csrf_token": token})
        assert response.status_code == 302
        before_answer[kind] = list(statements)
        assert inbox.messages == [] and db.session.scalar(select(func.count(Mail.id))) == 0
        response.close()  # the answer is out; now the server does the work
        if kind == "known":
            assert [message["To"] for message in inbox.messages] == [user.email]
            inbox.messages.clear()
            db.session.execute(delete(Mail))
            db.session.commit()
    assert before_answer["known"] == before_answer["unknown"]
    assert not any("users" in statement for statement in before_answer["known"])  # nobody was looked up
    assert inbox.messages == [] and db.session.scalar(select(func.count(Mail.id))) == 0  # nothing for nobody


def test_an_outside_expert_is_invited_as_an_assessor_and_reads_the_dossiers_without_a_ballot(client, db, make_user):
    mail = _invite(client, db, make_user, email="expert@uni.example", role=int(Role.ASSESSOR), locale="es")
    link = _link_in(mail)
    response = client.post(link, {"name": "Ana Experta", "password": "a long enough password",
                                  "confirm": "a long enough password"})
    assert response.status_code == 302
    user = User.by_email("expert@uni.example")
    assert user.roles == {Role.ASSESSOR}
    assert client.get("/assessment/").status_code == 200
    assert client.get("/review/board").status_code == 200
    assert client.get("/board/vote").status_code == 403
