"""Public pages: ETags, 304s, a per-locale page cache invalidated by edits and by embargo ends."""

import re

import pytest

from capital.domain.roles import Role
from capital.models import NominationText
from capital.public import cache, clock
from tests.conftest import TEST_REDIS_URL, WebClient
from tests.public_data import AFTER, BEFORE, make_counted_cycle


@pytest.fixture
def counted(db, make_city, monkeypatch):
    make_counted_cycle(db, make_city)
    monkeypatch.setattr(clock, "now", lambda: AFTER)


def get(client, url, locale="en", **headers):
    return client.get(url, headers={"Accept-Language": locale, **headers})


def test_a_public_page_is_cached_per_locale_and_answers_conditional_requests(client, counted):
    first = get(client, "/2031")
    assert first.status_code == 200 and first.headers["X-Page-Cache"] == "miss"
    assert first.headers["ETag"] and "public" in first.headers["Cache-Control"]
    assert "max-age=60" in first.headers["Cache-Control"] and "Accept-Language" in first.headers["Vary"]
    again = get(client, "/2031")
    assert again.headers["X-Page-Cache"] == "hit" and again.get_data() == first.get_data()
    assert again.headers["ETag"] == first.headers["ETag"]

    not_modified = get(client, "/2031", **{"If-None-Match": first.headers["ETag"]})
    assert not_modified.status_code == 304 and not_modified.get_data() == b""

    french = get(client, "/2031", "fr")
    assert french.headers["X-Page-Cache"] == "miss" and "Concert à Palermo à midi." in french.get_data(as_text=True)
    assert french.headers["ETag"] != first.headers["ETag"] and french.headers["Content-Language"] == "fr"


def test_an_edit_makes_the_cached_pages_stale(client, db, counted):
    assert "Concert in Palermo at noon." in get(client, "/2031").get_data(as_text=True)
    assert get(client, "/2031").headers["X-Page-Cache"] == "hit"
    text = db.session.query(NominationText).filter(NominationText.programme == "Concert in Palermo at noon.").one()
    text.programme = "Picnic in Palermo at dawn."
    db.session.commit()
    fresh = get(client, "/2031")
    assert fresh.headers["X-Page-Cache"] == "miss" and "Picnic in Palermo at dawn." in fresh.get_data(as_text=True)


def test_a_page_cached_before_the_announcement_time_is_not_served_after_it(client, db, make_city, monkeypatch):
    make_counted_cycle(db, make_city)
    monkeypatch.setattr(clock, "now", lambda: BEFORE)
    before = get(client, "/2031")
    assert "won the count" not in before.get_data(as_text=True)
    assert "max-age=1" in before.headers["Cache-Control"]  # never cached by browsers past the announcement
    assert get(client, "/2031").headers["X-Page-Cache"] == "hit"
    monkeypatch.setattr(clock, "now", lambda: AFTER)
    after = get(client, "/2031")
    assert after.headers["X-Page-Cache"] == "miss" and "Palermo won the count." in after.get_data(as_text=True)


def test_signed_in_readers_get_a_fresh_private_page(client, make_user, counted):
    get(client, "/2031")
    client.login(make_user(Role.SECRETARIAT).email)
    page = get(client, "/2031")
    assert page.headers["X-Page-Cache"] == "bypass" and "no-store" in page.headers["Cache-Control"]
    assert "Sign out" in page.get_data(as_text=True)


TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')


def test_no_reader_of_a_cached_page_gets_another_reader_token(app, counted):
    reader = WebClient(app.test_client())
    reader.csrf_token()  # a form opened elsewhere on the site: the reader has a session and a token
    own = reader.get("/2031", headers={"Accept-Language": "en"})
    hit = WebClient(app.test_client()).get("/2031", headers={"Accept-Language": "en"})
    assert own.headers["X-Page-Cache"] == "miss" and hit.headers["X-Page-Cache"] == "hit"
    token = TOKEN.search(own.get_data(as_text=True)).group(1)
    assert token and token not in hit.get_data(as_text=True)
    # The first-time reader served from the cache gets no session and no token at all.
    assert TOKEN.search(hit.get_data(as_text=True)).group(1) == "" and "Set-Cookie" not in hit.headers
    assert cache.TOKEN_PLACEHOLDER not in hit.get_data(as_text=True)


def test_a_publicly_cacheable_answer_carries_no_cookie_and_no_token(app, counted):
    # A first-time reader on a miss, answered by Flask: what a shared cache may keep and hand to many.
    miss = WebClient(app.test_client()).get("/2031", headers={"Accept-Language": "en"})
    assert miss.headers["X-Page-Cache"] == "miss" and "public, max-age=60" == miss.headers["Cache-Control"]
    assert "Set-Cookie" not in miss.headers and TOKEN.search(miss.get_data(as_text=True)).group(1) == ""
    # A reader who has a session gets their own token, hit or miss, in an answer no shared cache keeps.
    reader = WebClient(app.test_client())
    reader.csrf_token()
    own = reader.get("/2031", headers={"Accept-Language": "en"})
    assert own.headers["X-Page-Cache"] == "hit" and TOKEN.search(own.get_data(as_text=True)).group(1)
    assert "public" not in own.headers["Cache-Control"] and "private" in own.headers["Cache-Control"]
    # Every public page first-time readers open, rendered then from the cache: never a cookie or a token
    # beside "public" (the subscription form, a macro imported without the template's context, once
    # put the first reader's token into the cached home page and archive).
    public = set()
    for url in ("/", "/archive", "/nominees", "/2031", "/vote/2031", "/about/help", "/subscribe") * 2:
        page = WebClient(app.test_client()).get(url, headers={"Accept-Language": "en"})
        if "public" in page.headers.get("Cache-Control", ""):
            public.add((url, page.headers["X-Page-Cache"]))
            assert "Set-Cookie" not in page.headers, url
            assert set(TOKEN.findall(page.get_data(as_text=True))) == {""}, url
    assert {(url, state) for url in ("/", "/archive", "/nominees") for state in ("miss", "hit")} <= public


def test_the_language_switcher_of_a_cached_page_works_from_this_site_only(app, counted):
    app.test_client().get("/2031")
    reader = WebClient(app.test_client())
    page = reader.get("/2031")
    assert page.headers["X-Page-Cache"] == "hit" and 'name="csrf_token" value=""' in page.get_data(as_text=True)
    form = {"locale": "ru", "next": "/2031", "csrf_token": ""}
    forged = reader.post("/language", form, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 400
    no_origin = reader.post("/language", form)
    assert no_origin.status_code == 400
    switched = reader.post("/language", form, headers={"Origin": "http://localhost"})
    assert switched.status_code == 302 and switched.headers["Location"] == "/2031"
    assert '<html lang="ru"' in reader.get("/2031").get_data(as_text=True)
    wrong_token = reader.post("/language", {**form, "csrf_token": "forged"}, headers={"Origin": "http://localhost"})
    assert wrong_token.status_code == 400


def test_a_cached_page_is_not_sent_again_to_a_reader_who_has_it(app, counted):
    reader = app.test_client()
    reader.get("/archive")
    hit = reader.get("/archive")
    assert hit.headers["X-Page-Cache"] == "hit"
    again = reader.get("/archive", headers={"If-None-Match": hit.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    assert "default-src 'self'" in hit.headers["Content-Security-Policy"]


def test_redis_shares_the_cache_between_workers_and_its_version(app, client, counted, monkeypatch):
    store = cache.RedisStore(TEST_REDIS_URL)
    keys = lambda: list(store.client.scan_iter(cache.KEY_PREFIX + "*"))  # noqa: E731
    store.client.delete(*keys()) if keys() else None
    monkeypatch.setitem(app.extensions, "capital_page_cache", store)
    try:
        assert get(client, "/archive").headers["X-Page-Cache"] == "miss"
        other_worker = WebClient(app.test_client())
        assert get(other_worker, "/archive").headers["X-Page-Cache"] == "hit"
        cache.bump_version(app)
        assert int(store.client.get(cache.VERSION_KEY)) == 1
        assert get(other_worker, "/archive").headers["X-Page-Cache"] == "miss"
    finally:
        store.client.delete(*keys())


def test_a_cache_outage_slows_pages_but_never_breaks_them(app, client, counted, monkeypatch):
    monkeypatch.setitem(app.extensions, "capital_page_cache", cache.RedisStore("redis://127.0.0.1:1/0"))
    page = get(client, "/2031")
    assert page.status_code == 200 and "Palermo won the count." in page.get_data(as_text=True)


def test_another_worker_edit_reaches_this_worker_within_its_local_second(monkeypatch):
    this_worker, other_worker = cache.RedisStore(TEST_REDIS_URL), cache.RedisStore(TEST_REDIS_URL)
    key = cache.PAGE_KEY.format(locale="en", path="/test-local-second")
    try:
        version, _ = this_worker.get(key)
        other_worker.bump()
        assert this_worker.get(key)[0] == version  # still this process's copy
        now = cache.time.monotonic()
        monkeypatch.setattr(cache.time, "monotonic", lambda: now + cache.RedisStore.LOCAL_SECONDS)
        assert this_worker.get(key)[0] == version + 1
    finally:
        this_worker.client.delete(*this_worker.client.scan_iter(cache.KEY_PREFIX + "*"))
