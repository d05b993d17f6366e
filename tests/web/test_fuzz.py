"""Random input, as each role, to every route and every form, on PostgreSQL: never a 5xx, and a request
that is refused (anything but a redirect after success) stores nothing; the same with redis stopped.

Routes come from ``app.url_map``; forms (their fields, options and CSRF token) from the GET pages
each role can open, so a new page or form is fuzzed without touching this file.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, Phase as Phase_, given, settings, strategies as st
from sqlalchemy import text
from werkzeug.routing import IntegerConverter

from capital.domain.phase import Phase
from capital.domain.roles import Role
from tests.conftest import WebClient, free_port, second_factor_code

ROLES = {"anonymous": None, "representative": Role.REPRESENTATIVE, "board": Role.BOARD,
         "secretariat": Role.SECRETARIAT}
HOME = {Role.REPRESENTATIVE: "/city/", Role.BOARD: "/board/", Role.SECRETARIAT: "/secretariat/"}
# Forms whose only effect is on the fuzzing browser itself.
SKIPPED_ACTIONS = ("/account/logout",)
# Random requests per GET route, per form field and per POST route, with what a browser could send and
# with control characters: the four roles take about 15 s on an idle machine.
EXAMPLES = 1

EDGE_VALUES = [
    "", "0", "-1", "1", "2147483647", "2147483648", "-2147483649", str(2**63), "9" * 40, "1e999", "NaN", "-inf",
    "%00", "0001-01-01", "9999-12-31", "0001-01-01T00:00", "9999-12-31T23:59", "2031-02-30",
    "<script>alert(1)</script>", "' OR 1=1 --", "😀" * 20, "x" * 5000, "//evil.example/", "https://evil.example/",
    "../../etc/passwd", "a@b.example", "Europe/Berlin", "fr",
]
HOSTILE_VALUES = ["\x00", "a\x00b", "\r\n", "/\r\nSet-Cookie: a=b", "\t", "\x1b[31m", "\x7f"]
printable = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)
# Most requests carry what a browser could send, so they reach the views; some carry control characters.
values = st.one_of(st.sampled_from(EDGE_VALUES), printable, st.integers().map(str))
hostile = st.one_of(st.sampled_from(HOSTILE_VALUES), st.text(max_size=40))


# What a person would type into an empty field of this type, so that one bad field is the only fault.
PLAUSIBLE = {"email": "someone@city.example", "date": "2031-05-16", "datetime-local": "2031-05-16T10:00",
             "number": "7", "text": "Venlo", "textarea": "A text.", "password": "a long password 123"}


class FormParser(HTMLParser):
    """The POST forms of a page: action, enctype and fields (name -> list of offered values)."""

    def __init__(self):
        super().__init__()
        self.forms, self._form, self._select = [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "get").lower() == "post":
            self._form = {"action": attrs.get("action"), "multipart": "multipart" in (attrs.get("enctype") or ""),
                          "fields": {}, "files": set()}
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "textarea", "select", "button") and attrs.get("name"):
            name = attrs["name"]
            kind = attrs.get("type", tag)
            if kind == "file":
                self._form["files"].add(name)
            elif kind != "submit" and tag != "button":
                offered = self._form["fields"].setdefault(name, [])
                if attrs.get("value") and (kind not in ("checkbox", "radio") or not offered):
                    offered.append(attrs["value"])
                elif not offered and kind in PLAUSIBLE:
                    offered.append(PLAUSIBLE[kind])
            self._select = name if tag == "select" else None
        elif self._form is not None and tag == "option" and self._select and attrs.get("value"):
            self._form["fields"][self._select].insert(0 if "selected" in attrs else len(self._form["fields"][self._select]),
                                                      attrs["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _fingerprint(db) -> str:
    """A digest of every row of every table: equal before and after means nothing was stored."""
    parts = [f"(SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM \"{table.name}\" t)"
             for table in db.metadata.sorted_tables]
    with db.engine.connect() as connection:
        return connection.execute(text("SELECT " + " || ".join(parts))).scalar_one()


@pytest.fixture
def world(app, db, make_city, make_user, make_cycle):
    """A cycle open for nominations, people in every role, a draft nomination and an invitation."""
    city, host = make_city("Venlo", country="NL"), make_city("Palermo", country="IT")
    people = {Role.SECRETARIAT: make_user(Role.SECRETARIAT), Role.BOARD: make_user(Role.BOARD, city=host),
              Role.REPRESENTATIVE: make_user(Role.REPRESENTATIVE, city=city)}
    make_cycle(Phase.NOMINATIONS_OPEN)
    rep = WebClient(app.test_client())
    rep.login(people[Role.REPRESENTATIVE].email)
    assert rep.post("/city/nominations/new", {"host_city_id": host.id}).status_code == 302
    admin = WebClient(app.test_client())
    admin.login(people[Role.SECRETARIAT].email)
    admin.post("/secretariat/invitations", {"email": "new@city.example", "role": int(Role.BOARD), "city_id": 0,
                                            "locale": "en"})
    return people


def _build(rule, arguments: dict) -> str:
    # By hand: url_for would refuse the out-of-range values that are the point.
    return re.sub(r"<(?:[^>]*:)?(\w+)>", lambda match: quote(str(arguments[match.group(1)]), safe=""), rule.rule)


def _existing_url(rule) -> str:
    """The rule's address with values that exist in the world: id 1, the first choice, an open phase."""
    arguments = {}
    for name, converter in rule._converters.items():
        items = getattr(converter, "items", None)
        arguments[name] = (sorted(items)[0] if items else 1 if isinstance(converter, IntegerConverter)
                           else "nominations_open" if name == "name" else "token")
    return _build(rule, arguments)


def _random_url(rule, data) -> str:
    arguments = {}
    for name, converter in rule._converters.items():
        items = getattr(converter, "items", None)
        if items:
            arguments[name] = data.draw(st.sampled_from(sorted(items)))
        elif isinstance(converter, IntegerConverter):
            arguments[name] = data.draw(st.one_of(st.integers(1, 4), st.integers(0, 10**40)))
        elif name == "name":
            arguments[name] = data.draw(st.sampled_from([phase.name.lower() for phase in Phase]) | st.text(max_size=20))
        else:
            arguments[name] = data.draw(st.text(max_size=30))
    return _build(rule, arguments)


def _ensure_signed_in(browser, person, role) -> bool:
    # A form may have ended the session (a role given to oneself): sign in again, with a new token.
    if person is not None and browser.get(HOME[role]).status_code == 302:
        browser._token = None
        browser.app.extensions["capital_throttle"].reset()  # wrong passwords fuzzed before do not lock it out
        browser.login(person.email)
        return True
    return False


@pytest.mark.parametrize("role_name", ROLES)
def test_random_input_never_breaks_the_server_nor_stores_refused_data(app, db, world, role_name):
    _fuzz(app, db, world, role_name)


@pytest.fixture
def redis_stopped(app, monkeypatch):
    """The attempt counters and the page cache in a redis that does not answer (nothing listens on its port)."""
    from capital.public.cache import RedisStore
    from capital.throttle import FallbackCounters, RedisCounters

    url = f"redis://127.0.0.1:{free_port()}/0"
    monkeypatch.setitem(app.extensions, "capital_throttle", FallbackCounters(RedisCounters(url)))
    monkeypatch.setitem(app.extensions, "capital_page_cache", RedisStore(url))


# The roles whose forms are throttled (sign-in, reset, subscription, invitation; the board's own posts).
@pytest.mark.redis
@pytest.mark.parametrize("role_name", ["anonymous", "board"])
def test_with_redis_stopped_random_input_still_never_breaks_the_server(app, db, world, redis_stopped, role_name):
    _fuzz(app, db, world, role_name, plausible_first=True)


def _fuzz(app, db, world, role_name, *, plausible_first=False):
    """``plausible_first``: send each form once as a person would fill it, before any random field (random
    values alone rarely get past a form's validation to what it then does, such as counting an attempt)."""
    role = ROLES[role_name]
    person = world.get(role)
    browser = WebClient(app.test_client())
    if person is not None:
        browser.login(person.email)
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint not in ("static", "public.healthz")]
    get_rules = [rule for rule in rules if "GET" in rule.methods]
    post_rules = [rule for rule in rules if "POST" in rule.methods and not rule.rule.startswith(SKIPPED_ACTIONS)]

    forms, seen = [], set()  # (page url, form) for every POST form the role can see
    for rule in get_rules:
        url = _existing_url(rule)
        page = browser.get(url)
        if page.status_code == 200 and page.mimetype == "text/html":
            parser = FormParser()
            parser.feed(page.get_data(as_text=True))
            for form in parser.forms:
                target = form["action"] or url
                if not target.startswith(SKIPPED_ACTIONS) and target not in seen:  # the language switch: once
                    seen.add(target)
                    forms.append((url, form))
    assert len(forms) > 2, "no form found to fuzz"

    # Each field of each form on its own (the rest filled plausibly, so that field is the only fault).
    fields = [("form", (page, form, name), EXAMPLES) for page, form in forms
              for name in sorted(set(form["fields"]) - {"csrf_token"} | form["files"])]
    if plausible_first:
        fields = [("form", (page, form, None), 1) for page, form in forms] + fields
    targets = ([("get", rule, EXAMPLES) for rule in get_rules] + fields
               + [("post-url", rule, EXAMPLES) for rule in post_rules])
    state = {"fingerprint": None}  # the database's, after the last request: the next one's "before"
    for kind, target, examples in targets:  # every route and form, a few random requests each
        for pool in (values, hostile) if kind != "post-url" else (hostile,):  # POST-only routes: ids and junk
            _exercise(browser, person, role, db, kind, target, examples, pool, state)


def _add_factor_code(browser, url, fields) -> bool:
    """Give a password confirmation the person's second factor, as they would type it, before the
    request: getting a code may store a recovery code, which is the test's doing, not the request's."""
    if not url.startswith("/account/confirm-password") or "code" in fields or "credential" in fields:
        return False
    code = second_factor_code(browser.app, getattr(browser, "_email", ""))
    if code:
        fields["code"] = code
    return bool(code)


def _exercise(browser, person, role, db, kind, target, examples, pool, state):
    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              phases=[Phase_.generate], suppress_health_check=list(HealthCheck))
    @given(st.data())
    def exercise(data):
        if _ensure_signed_in(browser, person, role) or state["fingerprint"] is None:
            state["fingerprint"] = _fingerprint(db)  # signing in again records the sign-in time
        before = state["fingerprint"]
        if kind == "get":
            params = data.draw(st.dictionaries(
                st.sampled_from(["page", "sort", "dir", "q", "status", "role", "state", "country", "next", "start"])
                | st.text(max_size=10), pool, max_size=4))
            url = _random_url(target, data) + ("?" + urlencode(params) if params else "")
            response = browser.get(url)
            changed_ok = False
        elif kind == "form":
            page, form, name = target
            # A plausible filling (what the page offers), with this one field replaced or left out (none:
            # the plausible filling itself).
            fields = {key: offered[0] for key, offered in form["fields"].items() if offered}
            if name in form["files"]:
                fields[name] = (io.BytesIO(data.draw(st.binary(max_size=300))), data.draw(pool))
            elif name is not None and data.draw(st.integers(0, 5)) == 5:  # hypothesis tries 0 first: the usual case
                fields.pop(name, None)
            elif name is not None:
                fields[name] = data.draw(pool)
            # Now and then a forged token; otherwise the session's current one.
            fields["csrf_token"] = data.draw(printable) if data.draw(st.integers(0, 9)) == 9 else browser.csrf_token()
            url = form["action"] or page
            if _add_factor_code(browser, url, fields):
                before = _fingerprint(db)
            response = browser.post(url, fields, content_type="multipart/form-data" if form["multipart"] else None)
            changed_ok = response.status_code in (302, 303)
        else:
            url = _random_url(target, data)
            fields = data.draw(st.dictionaries(st.text(max_size=10), pool, max_size=3))
            if _add_factor_code(browser, url, fields):
                before = _fingerprint(db)
            response = browser.post(url, fields)
            changed_ok = response.status_code in (302, 303)
        assert response.status_code < 500, (url, response.status_code)
        state["fingerprint"] = _fingerprint(db)
        if not changed_ok:
            assert state["fingerprint"] == before, (url, response.status_code)

    exercise()
