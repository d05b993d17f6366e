"""Configuration, read from the environment in this one place (12-factor).

Every setting has a safe default for the embedded set-up (SQLite file, tasks run
in-process, mail written to an outbox folder), so ``flask --app wsgi capital demo``
works on a fresh machine. A malformed setting raises :class:`ConfigError` at start
with a message that names it.
"""

from __future__ import annotations

import os
import secrets
from contextlib import suppress
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from capital.domain.localisation import LOCALES
from capital.domain.roles import Role

ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """A setting is missing, malformed or unreachable; the message says which and why."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={value!r} is not a boolean (use true or false).")


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a whole number.") from None


def _env_limit(name: str, default: str) -> str:
    from limits import parse_many

    value = _env(name, default)
    with suppress(ValueError):  # a malformed limit is refused below, naming the setting
        if parse_many(value):
            return value
    raise ConfigError(f"{name}={value!r} is not a limit such as '5 per minute; 30 per hour'.")


def _env_positive(name: str, default: int) -> int:
    value = _env_int(name, default)
    if value < 1:
        raise ConfigError(f"{name}={value!r} must be at least 1.")
    return value


def _env_roles(name: str, default: str) -> frozenset[Role]:
    """A comma-separated list of role names (``secretariat,board``), which must name the secretariat."""
    value = _env(name, default)
    names = [part.strip().lower() for part in value.replace(";", ",").split(",") if part.strip()]
    known = {role.name.lower(): role for role in Role}
    unknown = [item for item in names if item not in known]
    if unknown:
        raise ConfigError(f"{name}={value!r} names no role {', '.join(unknown)}; use some of "
                          f"{', '.join(sorted(known))}.")
    roles = frozenset(known[item] for item in names)
    if Role.SECRETARIAT not in roles:
        raise ConfigError(f"{name}={value!r} must name secretariat: the secretariat always needs a second factor.")
    return roles


def database_url(raw: str) -> str:
    """Normalise a database URL to the drivers Capital ships with, or raise ConfigError."""
    if raw.startswith("postgres://"):  # Heroku-style URLs name no driver
        raw = "postgresql://" + raw[len("postgres://"):]
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        # The value is not echoed: it may hold a password.
        raise ConfigError("DATABASE_URL is not a database URL (postgresql://user:password@host/name "
                          "or sqlite:///path).") from None
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("postgresql", "sqlite"):
        raise ConfigError(
            f"DATABASE_URL uses {url.get_backend_name()!r}; Capital supports postgresql and sqlite."
        )
    return url.render_as_string(hide_password=False)


def _secret_key(instance_path: Path, production: bool) -> str:
    key = _env("SECRET_KEY")
    if key:
        if production and len(key) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters in production.")
        return key
    if production:
        raise ConfigError("SECRET_KEY is not set: production refuses to start without one.")
    # Local use: generate once and keep it, so sessions survive a restart.
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Created private: never readable by others, even for a moment.
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
        handle.write(key)
    return key


class Config:
    """Settings from the environment; construct it to read them (tests subclass it)."""

    TESTING = False
    PRODUCTION = False

    def __init__(self) -> None:
        self.INSTANCE_PATH = Path(_env("CAPITAL_INSTANCE_PATH", str(ROOT / "instance"))).resolve()
        env = _env("CAPITAL_ENV", "development")
        if env not in ("development", "production"):
            raise ConfigError(f"CAPITAL_ENV={env!r}: use development or production.")
        self.PRODUCTION = self.PRODUCTION or env == "production"

        self.SECRET_KEY = _secret_key(self.INSTANCE_PATH, self.PRODUCTION)
        self.SQLALCHEMY_DATABASE_URI = database_url(
            _env("DATABASE_URL", f"sqlite:///{self.INSTANCE_PATH / 'capital.db'}")
        )
        # A connection is checked before use, so the first request after a database restart
        # succeeds; statement parameters are kept out of error messages and logs (a parameter
        # may be a ballot).
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}

        # Redis serves as Celery broker and keeps the attempt counters (capital/throttle.py).
        self.REDIS_URL = _env("REDIS_URL")
        self.CELERY_BROKER_URL = _env("CELERY_BROKER_URL", self.REDIS_URL)
        broker = self.CELERY_BROKER_URL
        for name, value in (("REDIS_URL", self.REDIS_URL), ("CELERY_BROKER_URL", broker)):
            if value and not value.startswith(("redis://", "rediss://", "amqp://", "memory://")):
                # Only the scheme is echoed: the rest may hold a password.
                raise ConfigError(f"{name} starts with {value.split('://')[0]!r}: use a redis:// (or amqp://) URL.")
        # A task must end well before redis hands its unacknowledged message to another worker.
        visibility_timeout = _env_int("CAPITAL_BROKER_VISIBILITY_SECONDS", 3600)
        self.TASK_TIME_LIMIT = _env_int("CAPITAL_TASK_TIME_LIMIT_SECONDS", 600)
        if not 0 < self.TASK_TIME_LIMIT < visibility_timeout:
            raise ConfigError("CAPITAL_TASK_TIME_LIMIT_SECONDS must be above 0 and below "
                              "CAPITAL_BROKER_VISIBILITY_SECONDS, or a running task would be handed out twice.")
        self.CELERY = {
            "broker_url": broker or "memory://",
            "task_always_eager": broker is None,  # no broker: run tasks in-process
            "task_eager_propagates": True,
            "task_ignore_result": True,
            "task_acks_late": True,  # a worker that dies mid-task leaves it queued
            "task_reject_on_worker_lost": True,
            "task_serializer": "json",  # tasks take ids, never pickled objects
            "accept_content": ["json"],
            "result_serializer": "json",
            "task_time_limit": self.TASK_TIME_LIMIT,
            "task_soft_time_limit": self.TASK_TIME_LIMIT - 30 if self.TASK_TIME_LIMIT > 60 else self.TASK_TIME_LIMIT,
            "worker_prefetch_multiplier": 1,  # with late acks: a worker holds one task it is not running
            "broker_connection_retry_on_startup": True,
            "broker_transport_options": {"visibility_timeout": visibility_timeout},
            "worker_hijack_root_logger": False,
            "timezone": "UTC",
            "beat_schedule": {
                "tick": {"task": "capital.tasks.deadlines.tick", "schedule": timedelta(seconds=_env_int("CAPITAL_TICK_SECONDS", 60))},
            },
        }
        # Attempts are counted before they are checked (capital/throttle.py), in redis when configured.
        # Passwords (throttle.check_secret): per account from one address; per address; wrong ones per
        # account from every address, past which each address has a few attempts at that account.
        self.CAPITAL_LOGIN_LIMIT = _env_limit("CAPITAL_LOGIN_LIMIT", "5 per minute; 30 per hour")
        self.CAPITAL_LOGIN_ADDRESS_LIMIT = _env_limit("CAPITAL_LOGIN_ADDRESS_LIMIT", "30 per minute; 300 per hour")
        self.CAPITAL_LOGIN_ACCOUNT_LIMIT = _env_limit("CAPITAL_LOGIN_ACCOUNT_LIMIT", "20 per hour; 100 per day")
        self.CAPITAL_LOGIN_GUARDED_LIMIT = _env_limit("CAPITAL_LOGIN_GUARDED_LIMIT", "3 per hour; 10 per day")
        self.CAPITAL_RESET_LIMIT = _env_limit("CAPITAL_RESET_LIMIT", "10 per hour")
        self.CAPITAL_INVITATION_LIMIT = _env_limit("CAPITAL_INVITATION_LIMIT", "10 per 10 minutes")
        self.CAPITAL_BALLOT_LIMIT = _env_limit("CAPITAL_BALLOT_LIMIT", "10 per minute; 60 per hour")  # per member
        # Subscription requests: per address typed, and per client (each sends a confirmation mail).
        self.CAPITAL_SUBSCRIBE_LIMIT = _env_limit("CAPITAL_SUBSCRIBE_LIMIT", "3 per hour; 10 per day")
        self.CAPITAL_SUBSCRIBE_ADDRESS_LIMIT = _env_limit("CAPITAL_SUBSCRIBE_ADDRESS_LIMIT", "10 per hour; 50 per day")
        # Proxies in front of the app whose X-Forwarded-For is trusted (0: the peer is the client).
        self.TRUSTED_PROXIES = _env_int("CAPITAL_TRUSTED_PROXIES", 0)
        if self.TRUSTED_PROXIES < 0:
            raise ConfigError(f"CAPITAL_TRUSTED_PROXIES={self.TRUSTED_PROXIES} cannot be negative.")

        self.MAIL_SERVER = _env("MAIL_SERVER")
        self.MAIL_PORT = _env_int("MAIL_PORT", 25)
        self.MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
        self.MAIL_USE_SSL = _env_bool("MAIL_USE_SSL", False)
        self.MAIL_USERNAME = _env("MAIL_USERNAME")
        self.MAIL_PASSWORD = _env("MAIL_PASSWORD")
        self.MAIL_DEFAULT_SENDER = _env("MAIL_DEFAULT_SENDER", "Capital <capital@localhost>")
        self.MAIL_TIMEOUT = _env_int("MAIL_TIMEOUT", 20)
        # Where people write for help, privacy requests and accessibility problems (footer pages).
        self.CAPITAL_CONTACT_EMAIL = _env("CAPITAL_CONTACT_EMAIL", "secretariat@capital.example")
        self.MAIL_BATCH_SIZE = _env_int("CAPITAL_MAIL_BATCH_SIZE", 200)  # mails per claim and SMTP connection
        self.MAIL_MAX_ATTEMPTS = _env_int("CAPITAL_MAIL_MAX_ATTEMPTS", 12)  # about a day and a half of back-off
        self.MAIL_SENDERS = _env_int("CAPITAL_MAIL_SENDERS", 4)  # sender tasks a tick starts at most
        # true: wait for each "sent" mark to reach the disk (slower; safe even if PostgreSQL itself crashes).
        self.MAIL_DURABLE_MARKS = _env_bool("CAPITAL_MAIL_DURABLE_MARKS", False)
        # Recipients of a group mail whose mails are written per transaction.
        self.MAILING_RANGE = _env_positive("CAPITAL_MAILING_RANGE", 5000)
        # Ranges of a group mail a worker writes at once, each on its own connection (PostgreSQL).
        self.MAILING_WRITERS = _env_positive("CAPITAL_MAILING_WRITERS", 2)
        # Sent mail keeps its bodies this many days, then only who, what and when (0: for good).
        self.MAIL_RETENTION_DAYS = _env_int("CAPITAL_MAIL_RETENTION_DAYS", 90)
        if self.MAIL_RETENTION_DAYS < 0:
            raise ConfigError(f"CAPITAL_MAIL_RETENTION_DAYS={self.MAIL_RETENTION_DAYS} must be 0 (keep) or more.")
        self.MAIL_OUTBOX_DIR = Path(_env("CAPITAL_MAIL_OUTBOX_DIR", str(self.INSTANCE_PATH / "outbox")))
        if self.MAIL_USE_TLS and self.MAIL_USE_SSL:
            raise ConfigError("MAIL_USE_TLS and MAIL_USE_SSL are exclusive: choose one.")

        self.UPLOAD_DIR = Path(_env("CAPITAL_UPLOAD_DIR", str(self.INSTANCE_PATH / "uploads")))
        self.MAX_UPLOAD_BYTES = _env_int("CAPITAL_MAX_UPLOAD_MB", 10) * 1024 * 1024
        # Room for a letter and images in one form; a single file over the limit is refused
        # with a clear message by the upload check, a flood beyond this with 413.
        self.MAX_CONTENT_LENGTH = 4 * self.MAX_UPLOAD_BYTES
        self.BASE_URL = _env("CAPITAL_BASE_URL", "http://127.0.0.1:5000")
        self.INVITATION_DAYS = _env_int("CAPITAL_INVITATION_DAYS", 14)
        self.PASSWORD_RESET_SECONDS = _env_int("CAPITAL_PASSWORD_RESET_SECONDS", 3600)
        self.CHECK_SERVICES_AT_START = _env_bool("CAPITAL_CHECK_SERVICES_AT_START", True)
        # The longest a rendered public page is served from the cache (edits invalidate it sooner).
        self.CAPITAL_PAGE_CACHE_SECONDS = _env_int("CAPITAL_PAGE_CACHE_SECONDS", 300)

        self.BABEL_DEFAULT_LOCALE = "en"
        self.BABEL_DEFAULT_TIMEZONE = "UTC"
        self.BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "translations")
        self.LANGUAGES = LOCALES

        self.WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
        # Text answers are compressed (Flask-Compress): brotli when the client asks for it, else gzip.
        # Cached public pages are stored compressed once per render (capital.public.cache).
        self.COMPRESS_MIMETYPES = ["text/html", "text/plain", "text/css", "text/calendar", "text/javascript",
                                   "application/javascript", "application/json", "application/atom+xml",
                                   "image/svg+xml"]
        self.COMPRESS_ALGORITHM = ["br", "gzip"]
        # Not streamed files (the static ones, small): its stream wrapper would leave the file unclosed.
        self.COMPRESS_STREAMS = False
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = self.PRODUCTION
        self.REMEMBER_COOKIE_SECURE = self.PRODUCTION
        # A session ends after this long without a request, and in any case this long after sign-in.
        self.SESSION_IDLE_MINUTES = _env_positive("CAPITAL_SESSION_IDLE_MINUTES", 60)
        self.SESSION_MAX_HOURS = _env_positive("CAPITAL_SESSION_MAX_HOURS", 12)
        # Sensitive secretariat actions ask for the password again if it was typed longer ago.
        self.REAUTH_MINUTES = _env_positive("CAPITAL_REAUTH_MINUTES", 10)
        self.PERMANENT_SESSION_LIFETIME = timedelta(hours=self.SESSION_MAX_HOURS)
        # The roles that must sign in with a second factor (docs/roles.md): the secretariat always.
        self.REQUIRE_SECOND_FACTOR = _env_roles("CAPITAL_REQUIRE_SECOND_FACTOR", "secretariat")
