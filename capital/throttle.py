"""Attempt counters that hold under parallel requests and across web machines.

An attempt is counted *before* it is checked (an atomic increment: ``INCR`` in redis when
``REDIS_URL`` is set, a locked counter in this process otherwise), so thirty requests sent at
once cannot all be checked while the counter still reads zero. Each limit is a ``limits``
specification such as ``"5 per minute; 30 per hour"`` and is counted in fixed windows.

Use :func:`limit` on a view whose every POST counts (invitation acceptance, ballot review
and casting), or :func:`hit` in a view before the expensive or guessable check::

    attempt = throttle.hit("login", [("account", email, spec), ("address", client_address(), spec2)])
    ...  # check the password; raise nothing if it is right
    attempt.refund("address")   # a success does not count against the address
    attempt.clear("account")    # nor do the account's earlier failures

:class:`Throttled` is an HTTP 429 that says how long to wait; the error page shows it. The
same call protects any other form under a scope of its own (``"ballot"``, ``"subscribe"``).
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from dataclasses import dataclass, field
from functools import wraps

from flask import current_app, request
from limits import parse_many
from werkzeug.exceptions import TooManyRequests


@dataclass(frozen=True)
class Rule:
    amount: int
    seconds: int


def parse_rules(spec: str) -> list[Rule]:
    """``"5 per minute; 30 per hour"`` as rules; ValueError if it is not such a specification."""
    rules = [Rule(item.amount, int(item.get_expiry())) for item in parse_many(spec)]
    if not rules:
        raise ValueError(f"no limit in {spec!r}")
    return rules


class Throttled(TooManyRequests):
    """Too many attempts: ``wait_seconds`` until the next one is counted again."""

    def __init__(self, wait_seconds: int):
        super().__init__(retry_after=wait_seconds)
        self.wait_seconds = wait_seconds


# Past this many counters, the in-process store drops those whose window has ended.
MEMORY_KEYS = 10_000


class MemoryCounters:
    """Counters in this process (the embedded set-up: one process, no redis)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}

    def add(self, key: str, seconds: int, amount: int = 1) -> tuple[int, int]:
        """Add ``amount`` to the window's count; the new count and the seconds left in the window."""
        now = time.monotonic()
        with self._lock:
            if len(self._counts) > MEMORY_KEYS:  # many distinct keys (a spray): forget the expired ones
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
            count, ends = self._counts.get(key, (0, 0.0))
            if ends <= now:
                count, ends = 0, now + seconds
            count = max(count + amount, 0)
            self._counts[key] = (count, ends)
            return count, max(math.ceil(ends - now), 1)

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


class RedisCounters:
    """Counters in redis, shared by every web machine and worker."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=5)

    def add(self, key: str, seconds: int, amount: int = 1) -> tuple[int, int]:
        pipe = self._redis.pipeline(transaction=True)  # MULTI: the window and the increment are one step
        pipe.set(key, 0, ex=seconds, nx=True)
        pipe.incrby(key, amount)
        pipe.ttl(key)
        _, count, ttl = pipe.execute()
        return int(count), max(int(ttl), 1)

    def clear(self, key: str) -> None:
        self._redis.delete(key)

    def reset(self) -> None:
        keys = list(self._redis.scan_iter("capital:throttle:*"))
        if keys:
            self._redis.delete(*keys)


def _counters():
    return current_app.extensions["capital_throttle"]


def _key(scope: str, name: str, value: str, rule: Rule) -> str:
    # Hashed: an e-mail address is not written to redis in the clear.
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"capital:throttle:{scope}:{name}:{rule.amount}/{rule.seconds}:{digest}"


@dataclass
class Attempt:
    """The counts one attempt added, so a success can give them back."""

    keys: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def refund(self, name: str) -> None:
        """Take this attempt off the ``name`` counters (the attempt succeeded)."""
        counters = _counters()
        for key, seconds in self.keys.pop(name, []):
            counters.add(key, seconds, -1)

    def clear(self, name: str) -> None:
        """Forget every attempt counted under ``name`` in this window (e.g. the owner signed in)."""
        counters = _counters()
        for key, _seconds in self.keys.pop(name, []):
            counters.clear(key)


def hit(scope: str, limits: list[tuple[str, str, str]]) -> Attempt:
    """Count one attempt against each ``(name, value, spec)``; raise :class:`Throttled` if any is over.

    Every counter is incremented first, then compared, so parallel attempts cannot pass
    together. An empty ``value`` (no e-mail typed) is not counted under that name.
    """
    counters = _counters()
    attempt = Attempt()
    wait = 0
    for name, value, spec in limits:
        if not value:
            continue
        for rule in parse_rules(spec):
            key = _key(scope, name, value, rule)
            count, left = counters.add(key, rule.seconds)
            attempt.keys.setdefault(name, []).append((key, rule.seconds))
            if count > rule.amount:
                wait = max(wait, left)
    if wait:
        raise Throttled(wait)
    return attempt


def limit(scope: str, setting: str, *, key=None, methods=("POST",)):
    """Decorator: count each ``methods`` request against ``app.config[setting]`` before the view runs.

    ``key`` (a function of nothing) says whose attempts they are; by default the client's address.
    For example, ballot casting: ``@throttle.limit("ballot", "CAPITAL_BALLOT_LIMIT",
    key=lambda: str(current_user.id))``.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if request.method in methods:
                hit(scope, [("key" if key else "address", (key or client_address)(), current_app.config[setting])])
            return view(*args, **kwargs)

        return wrapped

    return decorator


def client_address() -> str:
    """The client's address; behind ``CAPITAL_TRUSTED_PROXIES`` proxies, the one they forwarded."""
    return request.remote_addr or "-"


def init_app(app) -> None:
    for name in ("CAPITAL_LOGIN_LIMIT", "CAPITAL_LOGIN_ADDRESS_LIMIT", "CAPITAL_RESET_LIMIT",
                 "CAPITAL_INVITATION_LIMIT", "CAPITAL_BALLOT_LIMIT", "CAPITAL_SUBSCRIBE_LIMIT", "CAPITAL_SUBSCRIBE_ADDRESS_LIMIT"):
        parse_rules(app.config[name])  # config.py checked them; fail at start if a test broke one
    url = app.config.get("REDIS_URL")
    app.extensions["capital_throttle"] = RedisCounters(url) if url else MemoryCounters()
