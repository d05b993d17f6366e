"""Attempt counters that hold under parallel requests, across web machines, and when redis stops.

An attempt is counted *before* it is checked (an atomic increment: ``INCR`` in redis when
``REDIS_URL`` is set, a locked counter in this process otherwise), so thirty requests sent at
once cannot all be checked while the counter still reads zero. Each limit is a ``limits``
specification such as ``"5 per minute; 30 per hour"`` and is counted in fixed windows.

Three ways in:

- :func:`check_secret` for **a secret typed for an account from an address** (a password, a
  second-factor code): guessing is bounded, and nobody can lock the owner out (see its
  docstring for the rules)::

      user = throttle.check_secret("login", email, lambda: accounts.authenticate(email, password, now),
                                   throttle.SecretLimits.from_config(current_app.config, "CAPITAL_LOGIN"))

- :func:`limit`, a decorator for a view whose every POST counts (invitation acceptance, ballot
  review and casting);
- :func:`hit`, to count one attempt against several keys before a check of one's own
  (password-reset requests, subscriptions); a success can give its count back
  (:meth:`Attempt.refund`) or forget the window (:meth:`Attempt.clear`).

:class:`Throttled` is an HTTP 429 that says how long to wait; the error page shows it.

When redis stops answering, the counters carry on in this process (:class:`FallbackCounters`):
a warning is logged once, nothing answers 500, and every limit still holds per web process
(with N processes, an attacker gets at most N times the allowance until redis is back).
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import TypeVar

from flask import current_app, request
from limits import parse_many
from werkzeug.exceptions import TooManyRequests

log = logging.getLogger(__name__)
T = TypeVar("T")


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
    """Counters in this process (the embedded set-up: one process, no redis; or redis is down)."""

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
                if amount < 0:  # nothing left to give back in an ended window
                    return 0, 1
                count, ends = 0, now + seconds
            count = max(count + amount, 0)
            self._counts[key] = (count, ends)
            return count, max(math.ceil(ends - now), 1)

    def count(self, key: str) -> int:
        """The window's count, without adding to it (0 once the window has ended)."""
        with self._lock:
            count, ends = self._counts.get(key, (0, 0.0))
            return count if ends > time.monotonic() else 0

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


# A refund lowers a count that still exists, never below zero, and keeps its window's end.
_GIVE_BACK = """
local count = redis.call('GET', KEYS[1])
if not count then return 0 end
count = math.max(tonumber(count) - tonumber(ARGV[1]), 0)
redis.call('SET', KEYS[1], count, 'KEEPTTL')
return count
"""


class RedisCounters:
    """Counters in redis, shared by every web machine and worker."""

    def __init__(self, url: str) -> None:
        import redis

        # Short timeouts: when redis is unreachable, a sign-in waits a second, not the default minutes.
        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=1)
        self._give_back = self._redis.register_script(_GIVE_BACK)

    def add(self, key: str, seconds: int, amount: int = 1) -> tuple[int, int]:
        if amount < 0:
            return int(self._give_back(keys=[key], args=[-amount])), 1
        pipe = self._redis.pipeline(transaction=True)  # MULTI: the window and the increment are one step
        pipe.set(key, 0, ex=seconds, nx=True)
        pipe.incrby(key, amount)
        pipe.ttl(key)
        _, count, ttl = pipe.execute()
        return int(count), max(int(ttl), 1)

    def count(self, key: str) -> int:
        return int(self._redis.get(key) or 0)

    def clear(self, key: str) -> None:
        self._redis.delete(key)

    def reset(self) -> None:
        keys = list(self._redis.scan_iter("capital:throttle:*"))
        if keys:
            self._redis.delete(*keys)


class FallbackCounters:
    """Redis counters that fall back to this process's own while redis does not answer.

    Throttling must not become the reason nobody can sign in or vote: when redis is stopped,
    unreachable or refusing writes, each operation is done on in-process counters instead
    (logged once as a warning, and once more when redis answers again). Every limit then holds
    per web process. Redis is tried again at most every ``RETRY_SECONDS``, so an outage does not
    make every request wait for a connection timeout. Counts made during the outage stay in
    the process; redis starts from its own when it is back.
    """

    RETRY_SECONDS = 5.0

    def __init__(self, primary: RedisCounters, fallback: MemoryCounters | None = None) -> None:
        self.primary = primary
        self.fallback = fallback or MemoryCounters()
        self._down_since: float | None = None
        self._failed_at = 0.0
        self._lock = threading.Lock()

    @property
    def is_degraded(self) -> bool:
        """Whether the counters are kept in this process because redis did not answer."""
        return self._down_since is not None

    def _call(self, operation: str, *args):
        import redis

        if self._down_since is None or time.monotonic() - self._failed_at >= self.RETRY_SECONDS:
            try:
                result = getattr(self.primary, operation)(*args)
            except redis.RedisError as error:
                self._went_down(error)
            else:
                self._came_back()
                return result
        return getattr(self.fallback, operation)(*args)

    def _went_down(self, error: Exception) -> None:
        with self._lock:
            self._failed_at = time.monotonic()
            if self._down_since is None:
                self._down_since = self._failed_at
                log.warning("redis does not answer (%s): attempt counters are kept in this process until it "
                            "does, so each web process counts on its own", type(error).__name__)

    def _came_back(self) -> None:
        if self._down_since is None:
            return
        with self._lock:
            if self._down_since is not None:
                log.warning("redis answers again after %.0f s: attempt counters are shared again",
                            time.monotonic() - self._down_since)
                self._down_since = None

    def add(self, key: str, seconds: int, amount: int = 1) -> tuple[int, int]:
        return self._call("add", key, seconds, amount)

    def count(self, key: str) -> int:
        return self._call("count", key)

    def clear(self, key: str) -> None:
        self._call("clear", key)

    def reset(self) -> None:
        self.fallback.reset()
        self._call("reset")


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


@dataclass(frozen=True)
class SecretLimits:
    """How often a secret may be tried; each field is a ``limits`` specification.

    - ``account_address``: attempts at one account from one address, counted before the check
      (a right secret forgives that address's earlier mistakes);
    - ``address``: attempts from one address, whatever the account (a right secret is not counted);
    - ``account``: wrong secrets for one account from every address together; past it, the
      account is *guarded*;
    - ``guarded``: attempts from one address at guarded accounts (a right secret is not counted).
    """

    account_address: str
    address: str
    account: str
    guarded: str

    @classmethod
    def from_config(cls, config, prefix: str) -> SecretLimits:
        """The limits set as ``{prefix}_LIMIT``, ``_ADDRESS_LIMIT``, ``_ACCOUNT_LIMIT`` and ``_GUARDED_LIMIT``."""
        return cls(account_address=config[f"{prefix}_LIMIT"], address=config[f"{prefix}_ADDRESS_LIMIT"],
                   account=config[f"{prefix}_ACCOUNT_LIMIT"], guarded=config[f"{prefix}_GUARDED_LIMIT"])


def check_secret(scope: str, account: str, check: Callable[[], T], limits: SecretLimits) -> T:
    """Run ``check()`` for a secret typed for ``account`` from the client's address, if the limits allow.

    ``check`` verifies the secret and returns something true when it is right (the user, True)
    and something false when it is wrong; its result is returned. :class:`Throttled` is raised,
    before ``check`` runs, when the attempt is over a limit. The rules:

    - Guessing from one address is bounded per account (``account_address``, counted before the
      check so parallel guesses cannot pass together) and across accounts (``address``).
    - Nobody else's failures refuse the owner: the account's own counter is per address, so a
      right secret typed from an address that has not been failing is always checked.
    - Guessing from many addresses is bounded too: once ``account`` wrong secrets have come
      from all of them together, the account is guarded until that window ends, and each
      address may then make only ``guarded`` attempts at guarded accounts. A right secret gives
      its attempt back, so the owner still passes, with room for a typo or two.

    ``account`` is the account's name as typed (normalise it first, e.g. lower-case an e-mail);
    ``scope`` keeps one kind of secret's counts apart from another's ("login", "second-factor").
    """
    address = client_address()
    limits_to_hit = [("account-address", f"{account}\n{address}", limits.account_address),
                     ("address", address, limits.address)]
    if _is_guarded(scope, account, limits.account):
        limits_to_hit.append(("guarded", address, limits.guarded))
    attempt = hit(scope, limits_to_hit)
    result = check()
    if result:
        attempt.clear("account-address")
        attempt.refund("address")
        attempt.refund("guarded")
    elif account:
        counters = _counters()
        for rule in parse_rules(limits.account):
            counters.add(_key(scope, "account-failures", account, rule), rule.seconds)
    return result


def _is_guarded(scope: str, account: str, spec: str) -> bool:
    """Whether ``account`` has had as many wrong secrets as a rule of ``spec`` allows, from all addresses."""
    if not account:
        return False
    counters = _counters()
    return any(counters.count(_key(scope, "account-failures", account, rule)) >= rule.amount
               for rule in parse_rules(spec))


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


LIMIT_SETTINGS = ("CAPITAL_LOGIN_LIMIT", "CAPITAL_LOGIN_ADDRESS_LIMIT", "CAPITAL_LOGIN_ACCOUNT_LIMIT",
                  "CAPITAL_LOGIN_GUARDED_LIMIT", "CAPITAL_RESET_LIMIT", "CAPITAL_INVITATION_LIMIT",
                  "CAPITAL_BALLOT_LIMIT", "CAPITAL_SUBSCRIBE_LIMIT", "CAPITAL_SUBSCRIBE_ADDRESS_LIMIT")


def init_app(app) -> None:
    for name in LIMIT_SETTINGS:
        parse_rules(app.config[name])  # config.py checked them; fail at start if a test broke one
    url = app.config.get("REDIS_URL")
    app.extensions["capital_throttle"] = FallbackCounters(RedisCounters(url)) if url else MemoryCounters()
