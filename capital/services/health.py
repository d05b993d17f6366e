"""What /healthz reports, and the start-up check of configured services."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from capital.config import ConfigError
from capital.extensions import db
from capital.models import Mail, Mailing, MailState, WorkerHeartbeat

BROKER_TIMEOUT_SECONDS = 2


def check_database() -> tuple[bool, str]:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:
        db.session.rollback()
        return False, f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return True, ""


def check_broker(url: str | None) -> tuple[bool, str]:
    """Ping a redis broker (the only kind /healthz can check cheaply); ok when none is set."""
    if not url:
        return True, ""
    if url.startswith(("redis://", "rediss://")):
        import redis

        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
                                          socket_timeout=BROKER_TIMEOUT_SECONDS)
            client.ping()
            client.close()
        except Exception as exc:
            return False, f"{type(exc).__name__}: {exc}"
        return True, ""
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=BROKER_TIMEOUT_SECONDS) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"
    return True, ""


# The outbox is counted exactly up to here (a bounded read of a small index); past it, a count
# is "more than" this, or "about" the planner's estimate. /healthz stays cheap at millions of mails.
COUNT_LIMIT = 10_000


def _bounded_count(*conditions) -> tuple[int, bool]:
    """The number of mails meeting ``conditions``, up to COUNT_LIMIT, and whether there are more."""
    rows = select(Mail.id).where(*conditions).limit(COUNT_LIMIT + 1).subquery()
    found = db.session.scalar(select(func.count()).select_from(rows))
    return min(found, COUNT_LIMIT), found > COUNT_LIMIT


def _estimated_mails() -> int | None:
    """PostgreSQL's own estimate of the outbox's rows (kept by autovacuum), None where there is none."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    estimate = db.session.scalar(text("SELECT reltuples::bigint FROM pg_class WHERE oid = 'mails'::regclass"))
    return estimate if estimate and estimate > 0 else None


def outbox_status(now: datetime) -> dict:
    """The outbox's backlog, the age of its oldest waiting mail, its failures (for /healthz and the secretariat).

    Every figure is a bounded read: ``counts`` says of each whether it is ``exact``, ``at_least``
    (more than COUNT_LIMIT) or ``about`` (the database's estimate).
    """
    queued, more_queued = _bounded_count(Mail.state.in_([MailState.QUEUED, MailState.SENDING]))
    failed, more_failed = _bounded_count(Mail.state == MailState.FAILED)
    sent, more_sent = _bounded_count(Mail.state == MailState.SENT)
    counts = {"queued": "at_least" if more_queued else "exact", "failed": "at_least" if more_failed else "exact",
              "sent": "exact"}
    if more_sent:
        estimate = _estimated_mails()
        sent_estimate = estimate - queued - failed if estimate is not None else 0
        sent, counts["sent"] = (sent_estimate, "about") if sent_estimate > COUNT_LIMIT else (COUNT_LIMIT, "at_least")
    oldest = db.session.scalar(
        select(func.min(Mail.created_dt)).where(Mail.state.in_([MailState.QUEUED, MailState.SENDING])))
    return {
        "queued": queued,
        "sent": sent,
        "failed": failed,
        "counts": counts,
        "oldest_queued_dt": oldest,
        "oldest_queued_age_seconds": max(int((now - oldest).total_seconds()), 0) if oldest else 0,
        "mailings_being_written": db.session.scalar(
            select(func.count(Mailing.id)).where(Mailing.written_dt.is_(None))),
    }


def tick_status(now: datetime) -> dict:
    """When the tick last ran, and whether beat is late (three ticks missed in a row).

    Datetimes are returned as such; /healthz writes them in ISO 8601."""
    beat = db.session.get(WorkerHeartbeat, "tick")
    interval = current_app.config["CELERY"]["beat_schedule"]["tick"]["schedule"]
    return {
        "last_run_dt": beat.last_run_dt if beat else None,
        "runs": beat.runs if beat else 0,
        "is_late": beat is None or now - beat.last_run_dt > max(3 * interval, timedelta(minutes=3)),
    }


def health_report(now: datetime) -> tuple[dict, bool]:
    """The JSON /healthz serves and whether everything it depends on answers."""
    config = current_app.config
    db_ok, db_error = check_database()
    broker_url = config["CELERY_BROKER_URL"]
    broker_ok, broker_error = check_broker(broker_url)
    report = {
        "database": {"ok": db_ok, "backend": make_url(config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()},
        "broker": {"ok": broker_ok, "configured": bool(broker_url),
                   "mode": "celery" if broker_url else "in-process"},
        "outbox": {"backend": "smtp" if config["MAIL_SERVER"] else "folder"},
        "tick": {},
    }
    if db_error:
        report["database"]["error"] = db_error
    if broker_error:
        report["broker"]["error"] = broker_error
    if db_ok:
        report["outbox"].update(_iso(outbox_status(now)))
        report["tick"] = _iso(tick_status(now))
    healthy = db_ok and broker_ok
    report["status"] = "ok" if healthy else "unavailable"
    return report, healthy


def _iso(values: dict) -> dict:
    return {key: value.isoformat() if isinstance(value, datetime) else value for key, value in values.items()}


def check_services_or_fail(app: Flask) -> None:
    """Refuse to start when the database or a configured broker cannot be reached."""
    with app.app_context():
        ok, error = check_database()
        if not ok:
            url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=True)
            raise ConfigError(f"DATABASE_URL: cannot reach {url}: {error}")
        broker = app.config["CELERY_BROKER_URL"]
        ok, error = check_broker(broker)
        if not ok:
            safe = make_url(broker).render_as_string(hide_password=True) if "://" in broker else broker
            raise ConfigError(f"CELERY_BROKER_URL / REDIS_URL: cannot reach {safe}: {error}")
