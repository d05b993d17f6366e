"""Rendered public pages, cached per locale, with ETags and conditional requests.

On announcement day thousands of readers ask for the same few pages. A page rendered for an
anonymous reader is kept (in redis when ``REDIS_URL`` is set, so every web worker shares it;
in process memory otherwise) under its locale and path, and served again until:

- anything it may show changes: a commit that touches a cycle, a city, a nomination, a vote
  or a result bumps the cache version (the entry's version no longer matches; other web
  workers see it within ``RedisStore.LOCAL_SECONDS``);
- the next embargo ends: an entry is never served past the first announcement time that
  was still ahead when it was rendered, so a result appears at its announcement time;
- ``CAPITAL_PAGE_CACHE_SECONDS`` have passed (a safety net; it is also how long an edit made
  by another process takes to show when pages are cached in process memory: the in-process
  store suits the embedded single-process set-up, several workers want ``REDIS_URL``).

Each entry is stored as rendered and compressed once, with brotli and with gzip, as a first-time
reader gets it (without a CSRF token): :class:`FrontCache` answers such a reader in the encoding
their ``Accept-Encoding`` prefers, with an ETag of its own (``"<etag>:br"``, ``"<etag>:gzip"``, the
way Flask-Compress names them) and ``Vary: Accept-Encoding``; a reader served through Flask gets
their own token put in, compressed on the way out by Flask-Compress.

Signed-in readers, readers with a message pending and requests with a query string get a
freshly rendered page (still with an ETag). A cached page is rendered with a placeholder
where a form's CSRF token goes: a reader who has a session gets their own token put in (and the
ETag covers it), in a private answer; a first-time reader, served by :class:`FrontCache` or by
Flask on a miss, gets none and no session cookie, in the only answers marked ``public``. No
reader ever receives another's token or session.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from functools import wraps

import brotli
from flask import current_app, g, has_app_context, make_response, request, session
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.datastructures import Accept, LanguageAccept
from werkzeug.http import parse_accept_header

from capital.config import LOCALES
from capital.models import City, Cycle, Nomination, NominationText, Result, VotingRound
from capital.public import clock
from capital.security import security_headers

log = logging.getLogger(__name__)

KEY_PREFIX = "capital:public:"
VERSION_KEY = KEY_PREFIX + "version"
PAGE_KEY = KEY_PREFIX + "page:{locale}:{path}"
# Not Ballot: a cast changes nothing public (ballots are published with the result, whose rows change
# when the round closes), so it must not empty the cache and tell readers that someone just voted.
TRACKED = (Cycle, City, Nomination, NominationText, VotingRound, Result)
TOKEN_PLACEHOLDER = "__capital_csrf_token__"
MAX_AGE = 60  # browsers and proxies may reuse a page this long (at most until the next embargo ends)


class MemoryStore:
    """The in-process store: a bounded LRU of entries and a version counter."""

    def __init__(self, size: int = 2048):
        self.entries: OrderedDict[str, bytes] = OrderedDict()
        self.version = 0
        self.size = size
        self.lock = threading.Lock()

    def get(self, key: str) -> tuple[int, bytes | None]:
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return self.version, entry

    def set(self, key: str, value: bytes, seconds: int) -> None:
        with self.lock:
            self.entries[key] = value
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def bump(self) -> None:
        with self.lock:
            self.version += 1
            self.entries.clear()


class RedisStore:
    """The shared store, with what it answered kept in this process for ``LOCAL_SECONDS``.

    A lookup costs one round trip (the version and the entry together) at most once per
    ``LOCAL_SECONDS`` per page: on announcement day most requests never leave the process. An
    edit made through another worker reaches this one within that time; one made here, at once.
    """

    LOCAL_SECONDS = 1.0

    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.local: dict[str, tuple[float, int, bytes | None]] = {}

    def get(self, key: str) -> tuple[int, bytes | None]:
        seen = self.local.get(key)
        if seen is not None and time.monotonic() - seen[0] < self.LOCAL_SECONDS:
            return seen[1], seen[2]
        version, entry = self.client.mget(VERSION_KEY, key)
        version = int(version or 0)
        if len(self.local) > 4096:
            self.local.clear()
        self.local[key] = (time.monotonic(), version, entry)
        return version, entry

    def set(self, key: str, value: bytes, seconds: int) -> None:
        self.client.set(key, value, ex=max(seconds, 1))
        self.local.pop(key, None)

    def bump(self) -> None:
        self.client.incr(VERSION_KEY)
        self.local.clear()


def _store():
    return current_app.extensions["capital_page_cache"]


def _cacheable() -> bool:
    return (request.method in ("GET", "HEAD") and not request.query_string
            and not current_user.is_authenticated and not session.get("_flashes"))


KEPT_HEADERS = ("Content-Type", "Content-Disposition")


# The encodings a cached page is also stored in, the preferred first when a client takes both.
ENCODINGS = ("br", "gzip")


def _compressed(body: bytes) -> dict[str, bytes]:
    """``body`` in each of ENCODINGS (once per render: a high level costs nothing per request)."""
    return {"br": brotli.compress(body, quality=9), "gzip": gzip.compress(body, compresslevel=9, mtime=0)}


def preferred_encoding(accept_encoding: str | None) -> str | None:
    """The one of ENCODINGS the client's ``Accept-Encoding`` ranks highest (None: identity)."""
    accepted = parse_accept_header(accept_encoding, Accept)
    best = max(ENCODINGS, key=lambda name: accepted.quality(name))
    return best if accepted.quality(best) > 0 else None


def _pack(version: int, rendered: datetime, valid_until: datetime | None, etag: str, response) -> bytes:
    body = response.get_data()
    shared = _compressed(body.replace(TOKEN_PLACEHOLDER.encode(), b""))  # as a first-time reader gets it
    header = {"v": version, "from": rendered.isoformat(), "until": valid_until.isoformat() if valid_until else None,
              "etag": etag, "sizes": [len(body), *(len(shared[name]) for name in ENCODINGS)],
              "headers": {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}}
    return b"".join([json.dumps(header).encode(), b"\n", body, *(shared[name] for name in ENCODINGS)])


@dataclass(frozen=True)
class Parsed:
    """A stored entry read: its header, the page as rendered (with the token's placeholder) and
    the page as a first-time reader gets it, by encoding (None: identity)."""

    header: dict
    body: bytes
    shared: dict[str | None, bytes]


# The last entry read for each key, with the entry it was read from: a hit on an entry already
# read parses, slices and copies nothing (on announcement day, nearly every request).
_READ: dict[str, tuple[bytes, Parsed]] = {}
_READ_LIMIT = 4096


def _unpack(key: str, entry: bytes) -> Parsed:
    """``entry`` read (from the memo of :data:`_READ` when it is the same entry as last time)."""
    seen = _READ.get(key)
    if seen is not None and seen[0] is entry:
        return seen[1]
    head, _, rest = entry.partition(b"\n")
    header = json.loads(head)
    if "sizes" not in header:  # stored by an earlier version: read as stale
        header["v"] = None
        return Parsed(header, b"", {})
    sizes = header["sizes"]
    body = rest[:sizes[0]]
    shared: dict[str | None, bytes] = {None: body.replace(TOKEN_PLACEHOLDER.encode(), b"")}
    start = sizes[0]
    for name, size in zip(ENCODINGS, sizes[1:], strict=True):
        shared[name] = rest[start:start + size]
        start += size
    parsed = Parsed(header, body, shared)
    if len(_READ) >= _READ_LIMIT:
        _READ.clear()
    _READ[key] = (entry, parsed)
    return parsed


def _respond(response, etag: str, max_age: int | None, state: str):
    """``response`` with its validators and caching headers, answered conditionally (304)."""
    response.set_etag(etag)
    response.headers["Content-Language"] = str(get_locale())
    response.vary.update(("Accept-Language", "Cookie", "Accept-Encoding"))
    if max_age is None:  # personal or one-off: the browser may keep it but must revalidate
        response.cache_control.private = True
        response.cache_control.no_cache = True
    else:
        response.cache_control.public = True
        response.cache_control.max_age = max_age
    response.headers["X-Page-Cache"] = state
    return response.make_conditional(request)


def _from_entry(header: dict, body: bytes):
    response = make_response(body)
    for name, value in header["headers"].items():
        response.headers[name] = value
    return response


def _personal(response, etag: str) -> tuple[str, bool]:
    """Put this reader's CSRF token into a shared page (the ETag then names the token too), and say
    whether the answer may be kept by shared caches.

    Only a reader without a session gets a shareable answer: the page as :class:`FrontCache` serves
    it, with no token and no session started, so no ``Set-Cookie``. A cache that handed one reader's
    session and token to others would let an attacker plant their session (login CSRF). A reader
    who has a session gets their own token, in an answer for them alone.
    """
    body = response.get_data()
    placeholder = TOKEN_PLACEHOLDER.encode()
    if not session:
        if placeholder in body:
            response.set_data(body.replace(placeholder, b""))
        return etag, not session.modified
    if placeholder not in body:
        return etag, False
    token = generate_csrf()
    response.set_data(body.replace(placeholder, token.encode()))
    # The signed token changes with each request, the session's raw token does not.
    return _etag(f"{etag}:{session.get('csrf_token', '')}".encode()), False


def _max_age(now: datetime, valid_until: datetime | None) -> int:
    if valid_until is None:
        return MAX_AGE
    return max(0, min(MAX_AGE, int((valid_until - now).total_seconds())))


def cached_page(next_change):
    """Serve the view from the page cache when the reader is anonymous.

    ``next_change(now)`` gives the first moment after ``now`` at which the page may change on
    its own (an embargo ending), or None; the entry is never served from then on.
    """
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            now = clock.now()
            if not _cacheable():
                response = make_response(view(*args, **kwargs))
                if response.status_code != 200:
                    return response
                return _respond(response, _etag(response.get_data()), None, "bypass")
            g.rendering_shared_page = True
            store = _store()
            key = PAGE_KEY.format(locale=get_locale(), path=request.path)
            version, fresh = _lookup(store, key, now)
            if fresh is not None:
                response = _from_entry(fresh.header, fresh.body)
                etag, shared = _personal(response, fresh.header["etag"])
                return _respond(response, etag, _max_age(now, _until(fresh.header)) if shared else None, "hit")
            response = make_response(view(*args, **kwargs))
            if response.status_code != 200:
                return response
            etag = _etag(response.get_data())
            until = next_change(now)
            if version is not None:
                seconds = current_app.config["CAPITAL_PAGE_CACHE_SECONDS"]
                if until is not None:
                    seconds = min(seconds, int((until - now).total_seconds()) + 1)
                try:
                    store.set(key, _pack(version, now, until, etag, response), seconds)
                except Exception:
                    log.warning("page cache unavailable", exc_info=True)
            etag, shared = _personal(response, etag)
            return _respond(response, etag, _max_age(now, until) if shared else None, "miss")
        return wrapper
    return decorate


def _until(header: dict) -> datetime | None:
    return datetime.fromisoformat(header["until"]) if header["until"] else None


def _lookup(store, key: str, now: datetime) -> tuple[int | None, Parsed | None]:
    """The store's version (None when the store is out of reach) and, if still fresh, the entry read."""
    try:
        version, entry = store.get(key)
    except Exception:  # a cache outage slows pages down, it never breaks them
        log.warning("page cache unavailable", exc_info=True)
        return None, None
    if entry is None:
        return version, None
    parsed = _unpack(key, entry)
    header = parsed.header
    until = _until(header)
    # Valid from its rendering to the next embargo's end (a clock set back makes it stale too).
    if header["v"] != version or now < datetime.fromisoformat(header["from"]) or (until and now >= until):
        return version, None
    return version, parsed


def _etag(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16).hexdigest()


def bump_version(app) -> None:
    """Make every cached page stale (called after a commit that changed what they show)."""
    try:
        app.extensions["capital_page_cache"].bump()
    except Exception:
        log.warning("page cache unavailable: pages stay stale for at most their lifetime", exc_info=True)


def _track_changes(session: Session, flush_context, instances) -> None:
    if any(isinstance(obj, TRACKED) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info["public_pages_changed"] = True


def _after_commit(session: Session) -> None:
    if session.info.pop("public_pages_changed", False) and has_app_context():
        bump_version(current_app._get_current_object())


def _after_rollback(session: Session) -> None:
    session.info.pop("public_pages_changed", None)


def _csrf_token() -> str:
    """The templates' ``csrf_token()``. A page served to every reader must not carry one reader's
    token: a shared page gets the placeholder, whether the template asks with its context or from a
    macro imported without it (which sees only the globals, as the subscription form does)."""
    return TOKEN_PLACEHOLDER if g.get("rendering_shared_page") else generate_csrf()


class FrontCache:
    """WSGI middleware: a first-time reader (no cookie, no query) gets a cached page without Flask.

    This is most of announcement day's traffic, and the page cache's reason to exist: the page
    is what the view cached, with the headers Flask would add. Such a reader has no session,
    so the page's forms carry no CSRF token (the language switcher checks the request's
    origin instead, see ``public.routes.set_language``). Anything else, and any miss, goes
    to Flask as usual.
    """

    def __init__(self, app):
        self.app = app
        self.wsgi_app = app.wsgi_app

    def __call__(self, environ, start_response):
        if (environ["REQUEST_METHOD"] in ("GET", "HEAD") and not environ.get("QUERY_STRING")
                and not environ.get("HTTP_COOKIE")):
            served = self._serve(environ, start_response)
            if served is not None:
                return served
        return self.wsgi_app(environ, start_response)

    def _serve(self, environ, start_response):
        app = self.app
        locale = (parse_accept_header(environ.get("HTTP_ACCEPT_LANGUAGE"), LanguageAccept).best_match(LOCALES)
                  or app.config["BABEL_DEFAULT_LOCALE"])
        now = clock.now()
        key = PAGE_KEY.format(locale=locale, path=environ.get("PATH_INFO") or "/")
        _, fresh = _lookup(app.extensions["capital_page_cache"], key, now)
        if fresh is None:
            return None
        header = fresh.header
        encoding = preferred_encoding(environ.get("HTTP_ACCEPT_ENCODING"))
        headers = security_headers(app.config.get("PRODUCTION", False))
        headers.update(header["headers"])
        headers.update({"Cache-Control": f"public, max-age={_max_age(now, _until(header))}",
                        "Vary": "Accept-Language, Cookie, Accept-Encoding", "Content-Language": locale,
                        "X-Page-Cache": "hit",
                        "ETag": f'"{header["etag"]}:{encoding}"' if encoding else f'"{header["etag"]}"'})
        if environ.get("HTTP_IF_NONE_MATCH", "").strip() in (headers["ETag"], "W/" + headers["ETag"]):
            del headers["Content-Type"]
            start_response("304 Not Modified", list(headers.items()))
            return [b""]
        body = fresh.shared[encoding]
        if encoding:
            headers["Content-Encoding"] = encoding
        headers["Content-Length"] = str(len(body))
        start_response("200 OK", list(headers.items()))
        return [b"" if environ["REQUEST_METHOD"] == "HEAD" else body]


def init_app(app) -> None:
    app.wsgi_app = FrontCache(app)
    # In place of Flask-WTF's generate_csrf, which it gives templates both ways.
    app.jinja_env.globals["csrf_token"] = _csrf_token
    app.context_processor(lambda: {"csrf_token": _csrf_token})
    url = app.config.get("REDIS_URL")
    app.extensions["capital_page_cache"] = RedisStore(url) if url else MemoryStore()
    if not event.contains(Session, "before_flush", _track_changes):
        event.listen(Session, "before_flush", _track_changes)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)

