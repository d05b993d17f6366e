"""Throttling that holds: attempts are counted before the password is checked, per account from each client
address and per address (behind trusted proxies); wrong passwords for an account from many addresses guard
it. Nobody's failures lock out anyone else who types their own correct password: not the owner's, not a
colleague's (capital/throttle.py, check_secret)."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from sqlalchemy import select

from capital.domain.roles import Role
from capital.models import Invitation
from tests.conftest import PASSWORD, TEST_REDIS_URL, WebClient, dispose, make_config


def _sign_in(app, email, password, **environ):
    browser = WebClient(app.test_client())
    if environ:
        browser.raw.environ_base.update(environ)
    return browser.post("/account/login", {"email": email, "password": password})


def _parallel_wrong_sign_ins(app, email, count=30):
    browsers = [WebClient(app.test_client()) for _ in range(count)]
    for browser in browsers:
        browser.csrf_token()  # fetch the forms first, so the posts really arrive together

    def attempt(browser):
        with app.app_context():
            return browser.post("/account/login", {"email": email, "password": "wrong"}).status_code

    with ThreadPoolExecutor(max_workers=count) as pool:
        return sorted(pool.map(attempt, browsers))


def test_thirty_wrong_passwords_sent_at_once_are_mostly_refused_unchecked(app, make_user):
    user = make_user(Role.SECRETARIAT)
    statuses = _parallel_wrong_sign_ins(app, user.email)
    assert statuses.count(401) == 5  # CAPITAL_LOGIN_LIMIT: 5 per minute
    assert statuses.count(429) == 25
    assert _sign_in(app, user.email, PASSWORD).status_code == 429  # this address waits, even with the password


ELSEWHERE = {"REMOTE_ADDR": "198.51.100.20"}


@pytest.fixture(params=["in-process", pytest.param("redis", marks=pytest.mark.redis)])
def counters(request, app, monkeypatch):
    """The attempt counters of the embedded set-up, then those in redis (every web machine's)."""
    if request.param == "in-process":
        yield
        return
    from capital.throttle import FallbackCounters, RedisCounters

    store = redis.Redis.from_url(TEST_REDIS_URL)
    store.flushdb()
    monkeypatch.setitem(app.extensions, "capital_throttle", FallbackCounters(RedisCounters(TEST_REDIS_URL)))
    try:
        yield
        assert store.keys("capital:throttle:login:account-failures:*")
    finally:
        store.flushdb()
        store.close()


def test_thirty_one_wrong_passwords_do_not_lock_the_owner_out(app, make_user):
    """The attack of issue 20: 31 wrong passwords, then the owner's own from where they are."""
    user = make_user(Role.SECRETARIAT)
    owner = WebClient(app.test_client())
    owner.raw.environ_base.update(ELSEWHERE)
    owner.login(user.email)  # signed in before the attack, about to confirm a phase change
    attacker = {"REMOTE_ADDR": "203.0.113.66"}
    statuses = [_sign_in(app, user.email, "guess", **attacker).status_code for _ in range(31)]
    assert statuses == [401] * 5 + [429] * 26  # this address guesses five times a minute at most
    assert _sign_in(app, user.email, PASSWORD, **ELSEWHERE).status_code == 302
    assert owner.post("/account/confirm-password", {"password": PASSWORD}).status_code == 302


def test_guessing_from_many_addresses_is_bounded_and_the_owner_still_signs_in(app, make_user, monkeypatch,
                                                                              counters):
    monkeypatch.setitem(app.config, "CAPITAL_LOGIN_ACCOUNT_LIMIT", "10 per hour")
    monkeypatch.setitem(app.config, "CAPITAL_LOGIN_GUARDED_LIMIT", "2 per hour")
    user = make_user(Role.BOARD)
    addresses = [{"REMOTE_ADDR": f"203.0.113.{n}"} for n in range(1, 21)]
    checked = 0
    for address in addresses:  # five guesses each from twenty addresses
        statuses = [_sign_in(app, user.email, "guess", **address).status_code for _ in range(5)]
        assert set(statuses) <= {401, 429}
        checked += statuses.count(401)
    # Two addresses make the ten wrong guesses that guard the account; the eighteen others get two each,
    # instead of the five per address (a hundred in all) that the per-address limit alone would allow.
    assert checked == 10 + 18 * 2
    assert _sign_in(app, user.email, PASSWORD, **addresses[5]).status_code == 429  # this address has been failing
    assert _sign_in(app, user.email, PASSWORD, **ELSEWHERE).status_code == 302  # this one has not
    # The owner may mistype while the account is guarded; the right password gives its attempt back.
    typing = {"REMOTE_ADDR": "198.51.100.21"}
    assert [_sign_in(app, user.email, password, **typing).status_code
            for password in ("typo", PASSWORD, PASSWORD, PASSWORD)] == [401, 302, 302, 302]


def test_the_owner_confirms_their_password_while_others_guess_it(app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "CAPITAL_LOGIN_ACCOUNT_LIMIT", "10 per hour")
    user = make_user(Role.SECRETARIAT)
    owner = WebClient(app.test_client())
    owner.raw.environ_base.update(ELSEWHERE)
    owner.login(user.email)
    for n in range(12):  # from twelve addresses: the account is guarded
        _sign_in(app, user.email, "guess", REMOTE_ADDR=f"203.0.113.{n}")
    assert owner.post("/account/confirm-password", {"password": PASSWORD}).status_code == 302
    # The confirmation page bounds guessing with a stolen session as the sign-in page does.
    thief = WebClient(app.test_client())
    thief.raw.environ_base.update({"REMOTE_ADDR": "203.0.113.99"})
    thief.login(user.email)
    assert [thief.post("/account/confirm-password", {"password": "guess"}).status_code
            for _ in range(4)] == [401, 401, 401, 429]  # the guarded limit: three an hour per address


def test_another_person_at_the_same_address_still_signs_in(app, make_user):
    target, colleague = make_user(Role.SECRETARIAT), make_user(Role.BOARD)
    for _ in range(6):
        _sign_in(app, target.email, "guess")
    assert _sign_in(app, target.email, PASSWORD).status_code == 429
    assert _sign_in(app, colleague.email, PASSWORD).status_code == 302


def test_one_address_trying_many_accounts_is_stopped(app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "CAPITAL_LOGIN_ADDRESS_LIMIT", "3 per minute")
    users = [make_user(Role.BOARD) for _ in range(4)]
    assert [_sign_in(app, user.email, "guess").status_code for user in users] == [401, 401, 401, 429]
    # Another address is not concerned; a success does not count against an address.
    elsewhere = {"REMOTE_ADDR": "198.51.100.7"}
    assert _sign_in(app, users[0].email, PASSWORD, **elsewhere).status_code == 302
    assert _sign_in(app, users[1].email, PASSWORD, **elsewhere).status_code == 302
    assert _sign_in(app, users[2].email, "guess", **elsewhere).status_code == 401


def test_a_successful_sign_in_forgives_the_owner_s_earlier_mistakes(app, make_user):
    user = make_user(Role.BOARD)
    for _ in range(4):
        assert _sign_in(app, user.email, "typo").status_code == 401
    assert _sign_in(app, user.email, PASSWORD).status_code == 302
    for _ in range(5):
        assert _sign_in(app, user.email, "typo").status_code == 401


def test_the_refusal_says_how_long_to_wait_in_the_reader_s_language(app, make_user):
    user = make_user(Role.BOARD)
    for _ in range(5):
        _sign_in(app, user.email, "guess")
    refused = _sign_in(app, user.email, "guess")
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 0 < wait <= 60
    assert re.search(r"Wait (\d+ seconds?|1 minute) and try again\.", refused.get_data(as_text=True))
    french = _sign_in(app, user.email, "guess", HTTP_ACCEPT_LANGUAGE="fr")
    assert "Trop de tentatives" in french.get_data(as_text=True)


@pytest.fixture
def proxied_app(tmp_path, session_app):
    from capital import create_app

    app = create_app(make_config(tmp_path, TRUSTED_PROXIES=1))
    with app.app_context():
        yield app
    dispose(app)


def test_behind_a_trusted_proxy_each_client_has_its_own_address(proxied_app, app, make_user):
    proxied_app.config["CAPITAL_LOGIN_ADDRESS_LIMIT"] = "2 per minute"
    users = [make_user(Role.BOARD) for _ in range(3)]
    first = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.5"}
    second = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.6"}
    assert [_sign_in(proxied_app, user.email, "guess", **first).status_code for user in users] == [401, 401, 429]
    assert _sign_in(proxied_app, users[2].email, PASSWORD, **second).status_code == 302


def test_without_trusted_proxies_a_forged_forwarded_for_changes_nothing(app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "CAPITAL_LOGIN_ADDRESS_LIMIT", "2 per minute")
    users = [make_user(Role.BOARD) for _ in range(3)]
    statuses = [_sign_in(app, user.email, "guess", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
                for n, user in enumerate(users)]
    assert statuses == [401, 401, 429]


def test_password_reset_requests_are_throttled(app, make_user, db):
    user = make_user(Role.BOARD)
    browser = WebClient(app.test_client())
    statuses = [browser.post("/account/password-reset", {"email": user.email}).status_code for _ in range(11)]
    assert statuses == [302] * 10 + [429]


def test_invitation_acceptance_is_throttled(app, client, make_user, db):
    admin = make_user(Role.SECRETARIAT)
    client.login(admin.email)
    client.post("/secretariat/invitations", {"email": "new@city.example", "role": int(Role.BOARD), "city_id": 0,
                                             "locale": "en"})
    invitation = db.session.scalar(select(Invitation))
    from capital.services.accounts import _serializer

    link = "/account/invitation/" + _serializer("invitation").dumps({"id": invitation.id, "nonce": invitation.nonce})
    browser = WebClient(app.test_client())
    statuses = [browser.post(link, {"name": "N", "password": "short", "confirm": "short"}).status_code
                for _ in range(11)]
    assert statuses == [200] * 10 + [429]


def test_counters_live_in_redis_and_hold_under_parallel_requests(app, make_user, monkeypatch):
    from capital.throttle import RedisCounters

    user = make_user(Role.SECRETARIAT)
    store = redis.Redis.from_url(TEST_REDIS_URL)
    store.flushdb()
    try:
        monkeypatch.setitem(app.extensions, "capital_throttle", RedisCounters(TEST_REDIS_URL))
        statuses = _parallel_wrong_sign_ins(app, user.email)
        assert statuses.count(401) == 5 and statuses.count(429) == 25
        assert store.keys("capital:throttle:login:*")
        assert not any(user.email.encode() in key for key in store.keys("*"))  # addresses are hashed
        # Another web machine, with its own connection to the same redis, sees the same counters.
        monkeypatch.setitem(app.extensions, "capital_throttle", RedisCounters(TEST_REDIS_URL))
        assert _sign_in(app, user.email, PASSWORD).status_code == 429
    finally:
        store.flushdb()
        store.close()


def test_the_in_process_store_forgets_ended_windows_when_it_grows(monkeypatch):
    from capital import throttle

    monkeypatch.setattr(throttle, "MEMORY_KEYS", 10)
    counters = throttle.MemoryCounters()
    for n in range(10):
        counters.add(f"short-{n}", seconds=1)
    counters.add("long", seconds=60)
    later = throttle.time.monotonic() + 10**6
    monkeypatch.setattr(throttle.time, "monotonic", lambda: later)  # far later: every window has ended
    counters.add("another", seconds=60)
    assert set(counters._counts) == {"another"}
