"""The second factor (issue 19, item 1): an authenticator app whose codes work once, recovery codes, who must
have one, the half-signed-in session that reaches nothing but the second step, the recent-login step, and
the reset of a lost factor by another member of the secretariat. Passkeys in a real browser:
tests/browser/test_second_factor_journey.py."""

import base64
import re
import time
from datetime import UTC, datetime

import pyotp
import pytest
from sqlalchemy import func, select

from capital.auth.sessions import OPEN_WHILE_PENDING
from capital.domain.roles import Role
from capital.models import AuditEntry, Mail, RecoveryCode, TotpFactor, User
from capital.models.types import utcnow
from capital.services import factors
from tests.conftest import PASSWORD, WebClient, at_once, second_factor_code

# RFC 6238, appendix B: the SHA-1 secret and (Unix time, 8-digit code); a 6-digit code is the last six digits.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
RFC_VECTORS = [(59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"), (1234567890, "89005924"),
               (2000000000, "69279037"), (20000000000, "65353130")]
CODES = re.compile(r'<li class="code-inline">([a-z2-9]{5}-[a-z2-9]{5})</li>')
KEY = re.compile(r'id="key"[^>]*>([A-Z2-7 ]+)<')


def _password(client, user) -> str:
    """Type the password: the answer's redirect (the second step, for someone who needs one)."""
    response = client.post("/account/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return response.headers["Location"]


def _app_code(user, at=None) -> str:
    return pyotp.TOTP(factors.totp_secret(user)).at(at or time.time())


def test_app_codes_are_those_of_pyotp_s_reference_and_rfc_6238(db, make_user):
    """pyotp, the reference, gives RFC 6238's own vectors; the service accepts exactly those codes at those
    times, and refuses a code two steps away."""
    for seconds, expected in RFC_VECTORS:
        at = datetime.fromtimestamp(seconds, UTC)
        assert pyotp.TOTP(RFC_SECRET, digits=8).at(at) == expected
        assert pyotp.TOTP(RFC_SECRET).at(at) == expected[-6:]
        user = make_user(second_factor=False)
        factors.give_app(user, RFC_SECRET, actor="system", now=at)
        db.session.commit()
        two_steps_later = datetime.fromtimestamp(seconds + 60, UTC)
        with pytest.raises(factors.FactorError):
            factors.check_second_factor(user, code=expected[-6:], now=two_steps_later)
        assert factors.check_second_factor(user, code=expected[-6:], now=at) == "app"
        db.session.commit()


def test_a_secretariat_member_without_a_factor_sets_one_up_before_anything_else(client, make_user, db):
    user = make_user(Role.SECRETARIAT, second_factor=False)
    assert _password(client, user) == "/account/security/app"
    assert client.get("/secretariat/").headers["Location"] == "/account/security/app"
    page = client.get("/account/security/app").get_data(as_text=True)
    assert '<svg role="img" aria-label="QR code to scan with your authenticator app"' in page  # drawn on the server
    key = KEY.search(page).group(1).replace(" ", "")
    assert client.get("/account/security/app").get_data(as_text=True).count(KEY.search(page).group(1)) == 1  # same key

    refused = client.post("/account/security/app", {"code": "123456" if _app_code_for(key) != "123456" else "654321"})
    assert refused.status_code == 200 and "This code is not right" in refused.get_data(as_text=True)
    assert 'class="error-summary"' in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(TotpFactor.id))) == 0

    done = client.post("/account/security/app", {"code": _app_code_for(key)})
    assert done.headers["Location"] == "/account/security/recovery-codes"
    codes = CODES.findall(client.get(done.headers["Location"]).get_data(as_text=True))
    assert len(codes) == 10 == len(set(codes))
    assert CODES.findall(client.get(done.headers["Location"]).get_data(as_text=True)) == []  # shown once
    assert client.get("/secretariat/").status_code == 200  # signed in now
    stored = db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)).all()
    assert len(stored) == 10 and all(h.startswith("$argon2") for h in stored)
    assert not any(code.replace("-", "") in h for h in stored for code in codes)
    user = db.session.get(User, user.id)
    assert factors.totp_secret(user) == key and key not in user.totp_factor.secret_encrypted  # encrypted at rest
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "second_factor.app_added"))
    assert db.session.scalar(select(Mail.recipient).where(Mail.kind == "second_factor_changed")) == user.email


def _app_code_for(key: str) -> str:
    return pyotp.TOTP(key).now()


def test_a_code_works_once(client, make_user, db):
    user = make_user(Role.SECRETARIAT)
    code = _app_code(user)
    assert _password(client, user) == "/account/two-factor"
    assert client.post("/account/two-factor", {"code": code}).headers["Location"] == "/dashboard"
    client.post("/account/logout")
    _password(client, user)
    replayed = client.post("/account/two-factor", {"code": code})
    assert replayed.status_code == 401
    assert "This code was already used" in replayed.get_data(as_text=True)
    assert client.get("/secretariat/").headers["Location"] == "/account/two-factor"  # still half signed in


def test_two_parallel_posts_of_one_code_let_exactly_one_through(app, make_user):
    user = make_user(Role.SECRETARIAT)
    browsers = [WebClient(app.test_client()) for _ in range(2)]
    for browser in browsers:
        _password(browser, user)
        browser.csrf_token()
    code, turn = _app_code(user), iter(browsers)
    statuses = at_once(app, lambda: next(turn).post("/account/two-factor", {"code": code}).status_code)
    assert sorted(statuses) == [302, 401]


def test_a_recovery_code_signs_in_once(client, make_user, db):
    user = make_user(Role.SECRETARIAT)
    codes = factors.regenerate_recovery_codes(user, now=utcnow())
    db.session.commit()
    _password(client, user)
    typed = " " + codes[3].upper().replace("-", " - ") + " "  # as copied from paper
    signed_in = client.post("/account/two-factor", {"code": typed})
    assert signed_in.status_code == 302
    assert "Recovery codes left: 9" in client.get("/secretariat/").get_data(as_text=True)
    client.post("/account/logout")
    _password(client, user)
    assert client.post("/account/two-factor", {"code": codes[3]}).status_code == 401
    assert db.session.scalar(select(func.count(RecoveryCode.id)).where(RecoveryCode.used_dt.is_not(None))) == 1


def test_codes_are_throttled_like_passwords(client, make_user):
    user = make_user(Role.SECRETARIAT)
    _password(client, user)
    wrong = f"{(int(_app_code(user)) + 500_000) % 1_000_000:06d}"
    assert [client.post("/account/two-factor", {"code": wrong}).status_code for _ in range(5)] == [401] * 5
    refused = client.post("/account/two-factor", {"code": _app_code(user)})
    assert refused.status_code == 429 and "Too many attempts" in refused.get_data(as_text=True)


def test_a_passkey_answer_that_is_not_one_is_refused_at_the_top_of_the_form(client, make_user):
    user = make_user(Role.SECRETARIAT)
    _password(client, user)
    for answer in ("{not json", '{"error": "NotAllowedError"}', '{"rawId": "AAAA", "response": {}}', "[]"):
        refused = client.post("/account/two-factor", {"credential": answer})
        page = refused.get_data(as_text=True)
        assert refused.status_code == 401 and 'class="error-summary"' in page, answer
    assert client.get("/secretariat/").headers["Location"] == "/account/two-factor"


def _sample_url(rule) -> str:
    """A URL for ``rule``: 1 for numbers, the first choice of an ``any``, ``x`` otherwise."""
    choices = dict((name, options.split(",")[0].strip()) for options, name in re.findall(r"<any\(([^)]*)\):(\w+)>", rule.rule))
    values = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__
        values[name] = 1 if "Int" in kind else choices.get(name, "capital.css" if rule.endpoint == "static" else "x")
    return rule.build(values, append_unknown=False)[1]


@pytest.mark.parametrize("has_factor", [True, False], ids=["with a factor", "without one yet"])
def test_a_half_signed_in_person_reaches_only_the_second_step_by_any_route(app, client, make_user, has_factor):
    user = make_user(Role.SECRETARIAT, second_factor=has_factor)
    landing = _password(client, user)
    assert landing == ("/account/two-factor" if has_factor else "/account/security/app")
    second_step = {"auth.second_factor"} if has_factor else {"auth.set_up_app", "auth.add_passkey"}
    walked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in OPEN_WHILE_PENDING:
            continue  # signing out, the language switch, the style sheet: checked below
        url = _sample_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.get(url) if method == "GET" else client.post(url, {})
            walked += 1
            if rule.endpoint in second_step:
                assert response.status_code in (200, 401), (method, url)  # the page itself, or its refusal
            else:
                assert (response.status_code, response.headers.get("Location")) == (302, landing), (method, url)
    assert walked > 60
    assert OPEN_WHILE_PENDING == {"static", "auth.logout", "public.set_language"}
    assert client.get("/static/capital.css").status_code == 200
    switched = client.post("/language", {"locale": "fr", "next": "/secretariat/"})
    assert client.get(switched.headers["Location"]).headers["Location"] == landing  # and nothing more
    client.post("/account/logout")
    assert client.get("/secretariat/").headers["Location"].startswith("/account/login")  # signing in was given up


def test_an_unfinished_sign_in_lapses(client, make_user):
    user = make_user(Role.SECRETARIAT)
    _password(client, user)
    with client.raw.session_transaction() as session:
        session["_pending"] = dict(session["_pending"], at=int(time.time()) - 601)
    lapsed = client.get("/account/two-factor")
    assert lapsed.headers["Location"] == "/account/login"
    assert "Your sign-in was not finished in time" in client.get("/account/login").get_data(as_text=True)
    assert client.get("/secretariat/").headers["Location"].startswith("/account/login")


def _age_password(client, seconds):
    with client.raw.session_transaction() as session:
        session["_auth_at"] = int(time.time()) - seconds


def test_confirming_it_is_you_asks_for_the_second_factor_too(client, make_user, make_cycle, db):
    from capital.domain.phase import Phase
    from capital.models import Cycle

    draft = make_cycle(Phase.DRAFT)
    user = make_user(Role.SECRETARIAT)
    client.login(user.email)
    _age_password(client, 11 * 60)
    url = f"/secretariat/cycles/{draft.id}/phase/nominations_open"
    confirm = client.get(url).headers["Location"]
    page = client.get(confirm).get_data(as_text=True)
    assert "your password and your second factor again" in page and 'name="code"' in page
    without = client.post(confirm, {"password": PASSWORD, "code": ""})
    assert without.status_code == 401 and "Type the 6-digit code" in without.get_data(as_text=True)
    wrong = client.post(confirm, {"password": PASSWORD, "code": "000000" if _app_code(user) != "000000" else "111111"})
    assert wrong.status_code == 401 and "This code is not right" in wrong.get_data(as_text=True)
    assert client.get(url).status_code == 302  # still not confirmed
    right = client.post(confirm, {"password": PASSWORD, "code": second_factor_code(client.app, user.email)})
    assert right.headers["Location"] == url
    client.post(url)
    assert db.session.get(Cycle, draft.id).phase == Phase.NOMINATIONS_OPEN


def test_a_secretariat_member_resets_a_lost_factor_behind_their_own_and_the_person_is_mailed(app, client, make_user,
                                                                                             db):
    person = make_user(Role.SECRETARIAT, locale="fr")
    person.mail_locale = "fr"
    factors.regenerate_recovery_codes(person, now=utcnow())
    db.session.commit()
    theirs = WebClient(app.test_client())
    theirs.login(person.email)
    admin = make_user(Role.SECRETARIAT, name="Ada Admin")
    client.login(admin.email)
    page = client.get(f"/secretariat/people/{person.id}").get_data(as_text=True)
    assert "Authenticator app; recovery codes left: 10" in page and "Reset the second factor" in page
    assert "Reset the second factor" not in client.get(f"/secretariat/people/{admin.id}").get_data(as_text=True)

    _age_password(client, 11 * 60)
    url = f"/secretariat/people/{person.id}/second-factor/reset"
    asked = client.post(url, headers={"Referer": f"http://localhost/secretariat/people/{person.id}"})
    assert asked.headers["Location"].startswith("/account/confirm-password")  # behind their own factor
    assert factors.has_second_factor(db.session.get(User, person.id))
    client.post(asked.headers["Location"], {"password": PASSWORD})  # the client adds admin's code
    assert client.post(url).status_code == 302
    db.session.expire_all()
    person = db.session.get(User, person.id)
    assert not factors.has_second_factor(person) and factors.recovery_codes_left(person) == 0
    assert theirs.get("/secretariat/").headers["Location"].startswith("/account/login")  # their sessions ended
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "second_factor.reset"))
    assert entry.actor_id == admin.id and entry.object_id == str(person.id)
    mail = db.session.scalar(select(Mail).where(Mail.kind == "second_factor_reset"))
    assert mail.recipient == person.email and "Ada Admin" in mail.body_text and mail.locale == "fr"
    assert "réinitialisé" in mail.body_text and "second facteur" in mail.subject  # in their language
    assert _password(WebClient(app.test_client()), person) == "/account/security/app"  # they set up a new one

    own = client.post(f"/secretariat/people/{admin.id}/second-factor/reset", follow_redirects=True)
    assert "reset your own second factor: another member" in own.get_data(as_text=True)
    assert factors.has_second_factor(db.session.get(User, admin.id))


def test_the_board_needs_a_factor_once_the_setting_names_it(app, client, make_user, monkeypatch):
    member = make_user(Role.BOARD)
    client.login(member.email)
    assert client.get("/board/").status_code == 200  # by default the board signs in with a password
    monkeypatch.setitem(app.config, "REQUIRE_SECOND_FACTOR", frozenset({Role.SECRETARIAT, Role.BOARD}))
    assert client.get("/board/").headers["Location"].startswith("/account/login")  # that session had no factor
    assert _password(WebClient(app.test_client()), member) == "/account/security/app"


def test_the_setting_names_roles_and_always_the_secretariat(tmp_path, monkeypatch):
    from capital.config import Config, ConfigError

    monkeypatch.setenv("CAPITAL_INSTANCE_PATH", str(tmp_path))
    assert Config().REQUIRE_SECOND_FACTOR == {Role.SECRETARIAT}
    monkeypatch.setenv("CAPITAL_REQUIRE_SECOND_FACTOR", "secretariat, Board")
    assert Config().REQUIRE_SECOND_FACTOR == {Role.SECRETARIAT, Role.BOARD}
    for refused, says in (("board", "must name secretariat"), ("secretariat,mayor", "names no role mayor")):
        monkeypatch.setenv("CAPITAL_REQUIRE_SECOND_FACTOR", refused)
        with pytest.raises(ConfigError, match=says):
            Config()


def test_anyone_may_set_up_an_app_and_other_sessions_end(app, client, make_user, make_city, db):
    rep = make_user(Role.REPRESENTATIVE, city=make_city())
    client.login(rep.email)
    laptop = WebClient(app.test_client())
    laptop.login(rep.email)
    security = client.get("/account/security").get_data(as_text=True)
    assert "No authenticator app is set up." in security and "optional for you" in security
    key = KEY.search(client.get("/account/security/app").get_data(as_text=True)).group(1).replace(" ", "")
    done = client.post("/account/security/app", {"code": pyotp.TOTP(key).now()})
    assert len(CODES.findall(client.get(done.headers["Location"]).get_data(as_text=True))) == 10
    assert client.get("/city/").status_code == 200  # this browser stays signed in
    assert laptop.get("/city/").status_code == 302  # the others end
    client.post("/account/logout")
    assert _password(client, rep) == "/account/two-factor"  # from now on, with the app
    client.post("/account/two-factor", {"code": second_factor_code(app, rep.email)})
    assert client.post("/account/security/app/remove").headers["Location"] == "/account/security"
    rep = db.session.get(User, rep.id)
    assert not factors.has_second_factor(rep) and factors.recovery_codes_left(rep) == 0
    assert [e for e in db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("second_factor.%")))] == [
        "second_factor.app_added", "second_factor.app_removed"]


def test_the_secretariat_keeps_at_least_one_factor(client, make_user, db):
    user = make_user(Role.SECRETARIAT)
    client.login(user.email)
    page = client.get("/account/security").get_data(as_text=True)
    assert "Replace the app" in page and "Remove the app" not in page  # offered only when it can succeed
    refused = client.post("/account/security/app/remove", follow_redirects=True)
    assert "add another one" in refused.get_data(as_text=True)
    assert factors.has_second_factor(db.session.get(User, user.id))


def test_the_server_resets_a_factor_when_no_secretariat_member_can(app, make_user, db):
    user = make_user(Role.SECRETARIAT)
    runner = app.test_cli_runner()
    done = runner.invoke(args=["capital", "reset-second-factor", user.email])
    assert done.exit_code == 0, done.output
    db.session.expire_all()
    assert not factors.has_second_factor(db.session.get(User, user.id))
    assert db.session.scalar(select(AuditEntry.actor_label).where(AuditEntry.action == "second_factor.reset")) == "cli"
    assert db.session.scalar(select(Mail.kind).where(Mail.recipient == user.email)) == "second_factor_reset"
    again = runner.invoke(args=["capital", "reset-second-factor", user.email])
    assert again.exit_code != 0 and "has no second factor to reset" in again.output


def test_a_new_secretariat_member_sets_up_a_factor_on_accepting_the_invitation(app, client, make_user, db):
    admin = make_user(Role.SECRETARIAT)
    client.login(admin.email)
    client.post("/secretariat/invitations", {"email": "new@capital.example", "role": int(Role.SECRETARIAT),
                                             "city_id": 0, "locale": "en"})
    body = db.session.scalar(select(Mail.body_text).where(Mail.kind == "invitation"))
    link = re.search(r"http://127\.0\.0\.1:5000(/account/invitation/\S+)", body).group(1)
    newcomer = WebClient(app.test_client())
    accepted = newcomer.post(link, {"name": "Nora", "password": "a long enough password",
                                    "confirm": "a long enough password"})
    assert accepted.headers["Location"] == "/account/security/app"  # the account exists; the factor comes first
    assert newcomer.get("/secretariat/").headers["Location"] == "/account/security/app"
