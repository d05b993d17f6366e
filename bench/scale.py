"""Capital at the size it promises: 5 000 cities, 20 000 people, a board of 500, 200 nominations,
1 000 000 subscribers and 1 000 000 mails in the outbox, each figure of issue 18 beside its target.

Run from the repository root, against an empty PostgreSQL database of its own (its tables are
replaced) and a redis database the run may empty::

    createdb -h 127.0.0.1 -U postgres bench_scale
    .venv/bin/python bench/scale.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_scale \\
        --redis-url redis://127.0.0.1:6379/14 [--scale 0.1] [--json figures.json] [--smoke]

The data set is written with bulk SQL where the services would take hours (cities, people, board
terms, subscribers, a year of sent mail, the nominations), then the real services do the rest: the
voting round opens (the roll frozen), every board member casts a ballot through ``cast_ballot``,
the secretariat closes the vote (timed: the shuffle and the count) and announces over HTTP to
gunicorn (two sync workers, README's settings) while a Celery worker (README's command, answering
before the announcement, as a worker in service would) writes the group mail in ranges (no sender runs: the run writes the mail and sends none). With a million mails in
the outbox, ``/healthz``, the secretariat's
dashboard and the mail log (first, deep and last pages, by keyset) are timed in process (the median
of ten after a warm-up), and the year page is measured and loaded with ``wrk`` beside a hello world
on the same server, as ``bench/year_page.py`` does. ``--scale 0.1`` runs the same at a tenth of
every size; ``--smoke`` at the smallest (a check that the bench runs, not a figure).

It prints each figure beside its target, writes them with ``--json FILE`` (keys named after the
rows, each with ``value``, ``target`` and ``met``), and ends with ``targets met`` or ``targets NOT
met: …``. At the design size it takes about a minute and a half on two quiet cores.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import logging
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.year_page import ROOT, bench_environment, empty_database, free_port, gunicorn, run_wrk  # noqa: E402

DESIGN = {"cities": 5000, "people": 20000, "board": 500, "nominations": 200, "subscribers": 1_000_000,
          "mails": 1_000_000}
LOCALES = ("en", "fr", "de", "es", "ar", "zh", "ru")
ZONES = ("Europe/Berlin", "Europe/Paris", "Africa/Cairo", "Asia/Shanghai", "America/New_York", "America/Sao_Paulo",
         "Europe/Moscow", "Asia/Tokyo", "Africa/Lagos", "Europe/Madrid")
PASSWORD = "bench-password-of-the-secretariat"
RECOVERY_CODES: list[str] = []  # the secretariat's second factor at sign-in, one code a sign-in
YEAR = 2027


def sizes(scale: float) -> dict[str, int]:
    minimum = {"cities": 10, "people": 40, "board": 4, "nominations": 3, "subscribers": 100, "mails": 100}
    return {name: max(minimum[name], round(count * scale)) for name, count in DESIGN.items()}


# --- the data set ------------------------------------------------------------------------------------

def build(app, size: dict[str, int], now: datetime) -> dict:
    """The data set in bulk SQL: ids of the secretariat account and of the cycle."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from capital.extensions import db
    from capital.services.accounts import hash_password

    with app.app_context():
        upgrade()
        run = lambda sql, **params: db.session.execute(text(sql), params)  # noqa: E731
        # Each city has its place on the map, so the year page carries the capital's map as it would.
        run("""INSERT INTO cities (name, name_latin, country_code, timezone, contact_email, status, created_dt,
                                   latitude, longitude)
               SELECT 'Ville ' || n, 'Ville ' || n, 'FR', (CAST(:zones AS text[]))[1 + n % :z], 'office' || n || '@ville' || n || '.example',
                      2, :now, -50 + (n * 37) % 120, -170 + (n * 53) % 340 FROM generate_series(1, :cities) n""",
            zones=list(ZONES), z=len(ZONES), cities=size["cities"], now=now)
        representatives = size["people"] - size["board"] - 1
        # People: the representatives of the cities, the board, one secretariat account.
        run("""INSERT INTO users (email, name, locale, mail_locale, timezone, city_id, is_active_account, created_dt,
                                  session_generation)
               SELECT 'rep' || n || '@ville' || (1 + n % :cities) || '.example', 'Représentant ' || n,
                      (CAST(:locales AS text[]))[1 + n % 7], (CAST(:locales AS text[]))[1 + (n / 7) % 7], CASE WHEN n % 5 = 0 THEN (CAST(:zones AS text[]))[1 + n % :z] END,
                      1 + n % :cities, true, :now, 0 FROM generate_series(1, :reps) n""",
            locales=list(LOCALES), zones=list(ZONES), z=len(ZONES), cities=size["cities"], reps=representatives,
            now=now)
        run("""INSERT INTO users (email, name, locale, timezone, is_active_account, created_dt, session_generation)
               SELECT 'board' || n || '@board.example', 'Board member ' || n, (CAST(:locales AS text[]))[1 + n % 7],
                      (CAST(:zones AS text[]))[1 + n % :z], true, :now, 0 FROM generate_series(1, :board) n""",
            locales=list(LOCALES), zones=list(ZONES), z=len(ZONES), board=size["board"], now=now)
        secretariat = run("""INSERT INTO users (email, name, locale, password_hash, is_active_account, created_dt,
                                                session_generation)
                             VALUES ('office@capital.example', 'Secretariat', 'en', :hash, true, :now, 0) RETURNING id""",
                          hash=hash_password(PASSWORD), now=now).scalar()
        _second_factor(secretariat)
        run("""INSERT INTO role_grants (user_id, role, granted_dt)
               SELECT id, CASE WHEN email LIKE 'rep%' THEN 1 WHEN email LIKE 'board%' THEN 2 ELSE 3 END, :now
               FROM users""", now=now)
        run("""INSERT INTO board_terms (user_id, starts_on, ends_on, note)
               SELECT id, :starts, :ends, '' FROM users WHERE email LIKE 'board%'""",
            starts=date(now.year - 1, 1, 1), ends=date(now.year + 2, 12, 31))
        run("""INSERT INTO subscribers (email, locale, confirmed_dt, created_dt)
               SELECT 'reader' || n || '@public.example', (CAST(:locales AS text[]))[1 + n % 7], :now, :now
               FROM generate_series(1, :count) n""", locales=list(LOCALES), count=size["subscribers"], now=now)
        # A year of mail: sent, a few waiting or refused, a thousandth with its text still kept.
        run("""INSERT INTO mails (dedupe_key, kind, recipient, locale, subject, body_text, body_html, message_id, state,
                                  attempts, next_attempt_dt, last_error, created_dt, sent_dt, recipient_name, city_name)
               SELECT '-:old:' || n, 'password_reset', 'person' || n || '@city.example', (CAST(:locales AS text[]))[1 + n % 7],
                      'Reset your Capital password', CASE WHEN n % 1000 = 0 THEN 'text' ELSE '' END,
                      CASE WHEN n % 1000 = 0 THEN '<p>text</p>' ELSE '' END, '<old-' || n || '@capital>',
                      CASE WHEN n % 5000 = 1 THEN 4 WHEN n % 5000 = 2 THEN 1 ELSE 3 END, 1,
                      :now + interval '1 hour', '', :now - (n * interval '30 seconds'),
                      CASE WHEN n % 5000 IN (1, 2) THEN NULL ELSE :now - (n * interval '30 seconds') END, '', ''
               FROM generate_series(1, :count) n""", locales=list(LOCALES), count=size["mails"], now=now)
        cycle = _cycle(run, size, now)
        db.session.commit()
        for table in ("cities", "users", "role_grants", "subscribers", "mails", "nominations"):
            run(f"ANALYZE {table}")  # nosec B608: a constant list of table names
        db.session.commit()
        return {"secretariat": secretariat, "cycle": cycle}


def _second_factor(user_id: int) -> None:
    """The secretariat signs in with a second factor: an authenticator app, and recovery codes the run types."""
    from capital.domain.second_factor import new_recovery_codes
    from capital.extensions import db
    from capital.models import RecoveryCode, TotpFactor
    from capital.services import factors
    from capital.services.accounts import hash_password

    db.session.add(TotpFactor(user_id=user_id, secret_encrypted=factors.seal(factors.new_totp_secret())))
    RECOVERY_CODES.extend(new_recovery_codes()[:2])
    db.session.add_all(RecoveryCode(user_id=user_id, code_hash=hash_password(code)) for code in RECOVERY_CODES)
    db.session.flush()


def _token(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def _cycle(run, size: dict[str, int], now: datetime) -> int:
    """A cycle whose nominations are closed and reviewed: ``nominations`` eligible, voting opens now."""
    from capital.domain.nominations import NominationState
    from capital.domain.phase import Phase
    from capital.domain.timeline import celebration_day
    from capital.extensions import db
    from capital.models import Cycle, Nomination

    cycle = Cycle(year=YEAR, celebration_date=celebration_day(YEAR), phase=Phase.NOMINATIONS_CLOSED,
                  phase_changed_dt=now, nominations_open_dt=now - timedelta(days=90),
                  nominations_close_dt=now - timedelta(days=30), voting_open_dt=now,
                  voting_close_dt=now + timedelta(days=20), announcement_dt=now + timedelta(days=30),
                  requires_recusal=False, created_dt=now)
    db.session.add(cycle)
    db.session.flush()
    city_ids = run("SELECT id FROM cities ORDER BY id LIMIT :count", count=size["nominations"]).scalars().all()
    db.session.add_all(Nomination(cycle_id=cycle.id, nominating_city_id=city_id, host_city_id=city_id,
                                  state=NominationState.ELIGIBLE, title=f"Ville {city_id} together", created_dt=now,
                                  updated_dt=now) for city_id in city_ids)
    db.session.flush()
    return cycle.id


# --- the real services ---------------------------------------------------------------------------------

def vote(app, ids: dict, now: datetime) -> dict:
    """Open the round, cast every ballot, then close and count by hand (timed); returns the figures."""
    import random

    from sqlalchemy import event

    from capital.domain.phase import Phase
    from capital.extensions import db
    from capital.models import Cycle, User
    from capital.services.cycles import change_phase, open_voting
    from capital.services.voting import cast_ballot, current_round

    with app.app_context():
        office = db.session.get(User, ids["secretariat"])
        open_voting(db.session.get(Cycle, ids["cycle"]), actor=office, now=now, by_hand=True)
        db.session.commit()
        cycle = db.session.get(Cycle, ids["cycle"])
        voting_round = current_round(cycle)
        nominations = list(voting_round.tie_break_order)
        chooser = random.Random(18)
        for member_id in voting_round.roll:
            ranking = chooser.sample(nominations, len(nominations))
            cast_ballot(cycle, db.session.get(User, member_id), [[n] for n in ranking], now=now + timedelta(seconds=1))
            db.session.commit()
        statements = []
        count = lambda *args: statements.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", count)
        started, cpu = time.perf_counter(), time.process_time()
        change_phase(cycle, Phase.VOTING_CLOSED, actor=office, now=now + timedelta(seconds=2), by_hand=True)
        db.session.commit()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        event.remove(db.engine, "before_cursor_execute", count)
        change_phase(db.session.get(Cycle, ids["cycle"]), Phase.TALLIED, actor=office,
                     now=now + timedelta(seconds=2), by_hand=True)
        db.session.commit()
        ballots = len(voting_round.roll)
        return {"close_seconds": seconds, "close_cpu_seconds": cpu, "close_statements": len(statements),
                "ballots": ballots,
                "nominations": len(nominations)}


@contextmanager
def celery_worker(env: dict, folder: Path):
    log = (folder / "worker.log").open("wb")
    process = subprocess.Popen([str(Path(sys.executable).with_name("celery")), "-A", "celery_worker", "worker",
                                "--loglevel=WARNING"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_ready(process, env["CELERY_BROKER_URL"])
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait_until_ready(process: subprocess.Popen, broker: str) -> None:
    """Wait for the worker to answer a ping: in service, workers run before anyone announces, so
    the time a worker takes to start on a loaded machine is not the announcement's."""
    from celery import Celery

    control = Celery(broker=broker).control
    deadline = time.monotonic() + 300
    while not control.ping(timeout=1.0):
        if process.poll() is not None or time.monotonic() > deadline:
            sys.exit("the Celery worker did not start (its log is in the run's folder)")


def announce(app, env: dict, ids: dict, folder: Path) -> dict:
    """Announce by hand over HTTP while a worker writes the mail; the answer's time, the mail's."""
    from sqlalchemy import func, select

    from capital.extensions import db
    from capital.models import Mail, Mailing

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with celery_worker(env, folder) as worker, gunicorn("wsgi:app", env, port, "/"):
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        token = _token
        form = browser.open(f"{base}/account/login", timeout=30).read().decode()
        answer = browser.open(f"{base}/account/login", urllib.parse.urlencode(
            {"email": "office@capital.example", "password": PASSWORD, "csrf_token": token(form)}).encode(), timeout=30)
        if "/account/two-factor" in answer.geturl():
            browser.open(f"{base}/account/two-factor", urllib.parse.urlencode(
                {"code": RECOVERY_CODES.pop(), "csrf_token": token(answer.read().decode())}).encode(), timeout=30)
        page = browser.open(f"{base}/secretariat/cycles/{ids['cycle']}/phase/announced", timeout=30).read().decode()
        errors = 0
        started = time.perf_counter()
        try:
            response = browser.open(f"{base}/secretariat/cycles/{ids['cycle']}/phase/announced",
                                    urllib.parse.urlencode({"csrf_token": token(page)}).encode(), timeout=60)
            errors += response.status != 200
        except OSError:
            errors += 1
        answered = time.perf_counter() - started
        written = {}
        deadline = time.monotonic() + 900
        with app.app_context():
            while time.monotonic() < deadline and worker.poll() is None:
                db.session.rollback()
                rows = db.session.execute(select(Mailing.audience, Mailing.written_dt)
                                          .where(Mailing.kind == "announcement")).all()
                for audience, done in rows:
                    if done is not None and audience not in written:
                        written[audience] = time.perf_counter() - started
                if rows and len(written) == len(rows):
                    break
                time.sleep(0.2)
            db.session.rollback()
            mails = dict(db.session.execute(select(Mailing.audience, func.count(Mail.id))
                                            .join(Mail, Mail.mailing_id == Mailing.id)
                                            .where(Mailing.kind == "announcement").group_by(Mailing.audience)).all())
    cities, readers = written.get("member_cities"), written.get("subscribers")
    return {"answer_seconds": answered, "errors": errors, "cities_seconds": cities, "all_seconds": readers,
            "city_mails": mails.get("member_cities", 0), "subscriber_mails": mails.get("subscribers", 0),
            "subscriber_rate": mails.get("subscribers", 0) / (readers - cities) if cities and readers else 0.0}


CPU_MS: dict[str, float] = {}  # this process's own CPU time of each page timed, beside its wall-clock time


def timed(client, url: str, repeat: int = 10) -> float:
    """The median time of ``url`` in milliseconds, after one warm-up request (its CPU time: CPU_MS)."""
    assert client.get(url).status_code == 200, url
    times, cpu = [], []
    for _ in range(repeat):
        started, used = time.perf_counter(), time.process_time()
        assert client.get(url).status_code == 200, url
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    CPU_MS[url] = statistics.median(cpu)
    return statistics.median(times)


def outbox_pages(app) -> dict:
    """/healthz, the dashboard and the mail log (first, deep, last and refused pages) with the outbox full."""
    from sqlalchemy import func, select

    from capital.extensions import db
    from capital.models import Mail

    client = app.test_client()
    answer = client.post("/account/login", data={"email": "office@capital.example", "password": PASSWORD,
                                                 "csrf_token": _token(client.get("/account/login").get_data(as_text=True))})
    if answer.headers.get("Location", "").startswith("/account/two-factor"):
        page = client.get("/account/two-factor").get_data(as_text=True)
        client.post("/account/two-factor", data={"code": RECOVERY_CODES.pop(), "csrf_token": _token(page)})
    with app.app_context():
        total = db.session.scalar(select(func.count(Mail.id)))
        deep = db.session.execute(select(Mail.created_dt, Mail.id).order_by(Mail.created_dt.desc(), Mail.id.desc())
                                  .offset(total * 95 // 100).limit(1)).one()
        last = db.session.execute(select(Mail.created_dt, Mail.id).order_by(Mail.created_dt, Mail.id)
                                  .offset(30).limit(1)).one()
    cursor = lambda row: urllib.parse.quote(f"{row[0].isoformat()}_{row[1]}")  # noqa: E731
    log = {name: timed(client, url) for name, url in (
        ("first", "/secretariat/mail"), ("deep", f"/secretariat/mail?older={cursor(deep)}"),
        ("last", f"/secretariat/mail?older={cursor(last)}"), ("refused", "/secretariat/mail?state=4"))}
    return {"mails": total, "healthz_ms": timed(client, "/healthz"), "dashboard_ms": timed(client, "/secretariat/"),
            "log_ms": log}


def year_page(env: dict, seconds: int) -> dict:
    """The year page's size, and its rate under wrk beside a hello world on the same server."""
    page_port, hello_port = free_port(), free_port()
    with gunicorn("wsgi:app", env, page_port, f"/{YEAR}"), gunicorn("bench.hello:app", env, hello_port, "/"):
        request = urllib.request.Request(f"http://127.0.0.1:{page_port}/{YEAR}",
                                         headers={"Accept-Language": "en", "Accept-Encoding": "identity"})
        with urllib.request.urlopen(request, timeout=60) as response:
            size = len(response.read())
        page = run_wrk(f"http://127.0.0.1:{page_port}/{YEAR}", seconds, 8)
        hello = run_wrk(f"http://127.0.0.1:{hello_port}/", seconds, 8)
    return {"bytes": size, "rps": page["rps"], "hello_rps": hello["rps"], "errors": page["errors"] + hello["errors"]}


# --- the report ------------------------------------------------------------------------------------------------

def figures(closing: dict, announcing: dict, outbox: dict, page: dict) -> dict[str, dict]:
    def row(value, target: str, met: bool) -> dict:
        return {"value": round(value, 3) if isinstance(value, float) else value, "target": target, "met": bool(met)}

    written = announcing["all_seconds"]
    log_worst = max(outbox["log_ms"].values())
    ratio = page["rps"] / page["hello_rps"] if page["hello_rps"] else 0.0
    return {
        "hand_announcement_answer_seconds": row(announcing["answer_seconds"], "< 2", announcing["answer_seconds"] < 2),
        "hand_announcement_all_mail_written_seconds": row(written if written is not None else float("inf"), "< 300",
                                                          written is not None and written < 300),
        "hand_announcement_errors": row(announcing["errors"], "0", announcing["errors"] == 0),
        "year_page_bytes": row(page["bytes"], "<= 200000", page["bytes"] <= 200_000),
        "year_page_vs_hello_world": row(ratio, ">= 0.8", ratio >= 0.8 and page["errors"] == 0),
        "healthz_ms": row(outbox["healthz_ms"], "< 50", outbox["healthz_ms"] < 50),
        "dashboard_ms": row(outbox["dashboard_ms"], "< 50", outbox["dashboard_ms"] < 50),
        "mail_log_any_page_ms": row(log_worst, "< 100", log_worst < 100),
        "close_and_count_seconds": row(closing["close_seconds"], "< 1.5", closing["close_seconds"] < 1.5),
        "subscriber_mails_written_per_second": row(announcing["subscriber_rate"], ">= 12000",
                                                   announcing["subscriber_rate"] >= 12000),
    }


def report(size: dict, closing: dict, announcing: dict, outbox: dict, page: dict, rows: dict) -> None:
    print(f"{size['cities']} cities, {size['people']} people, a board of {size['board']}, {size['nominations']} "
          f"nominations, {size['subscribers']} subscribers, {outbox['mails']} mails in the outbox; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end")
    print(f"{'figure':<44} {'value':>12} {'target':>10}  met")
    for name, figure in rows.items():
        value = figure["value"]
        shown = f"{value:,.3f}" if isinstance(value, float) else f"{value:,}"
        print(f"{name:<44} {shown:>12} {figure['target']:>10}  {'yes' if figure['met'] else 'NO'}")
    print(f"close + count: {closing['ballots']} ballots x {closing['nominations']} nominations in "
          f"{closing['close_statements']} statements, {closing['close_cpu_seconds']:.2f} s of this process's CPU")
    print("CPU ms of this process per page (the rest is waiting: PostgreSQL, or a busy machine): "
          + ", ".join(f"{url} {ms:.1f}" for url, ms in CPU_MS.items()))
    print(f"announcement: {announcing['city_mails']} city mails written in {announcing['cities_seconds'] or 0:.1f} s, "
          f"{announcing['subscriber_mails']} subscriber mails by {announcing['all_seconds'] or 0:.1f} s")
    print("mail log pages, ms: " + ", ".join(f"{name} {ms:.1f}" for name, ms in outbox["log_ms"].items()))
    print(f"year page under wrk: {page['rps']:.0f} req/s, hello world {page['hello_rps']:.0f} req/s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True, help="an empty PostgreSQL database (its tables are replaced)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14",
                        help="the broker of the run's Celery worker (a redis database the run may empty)")
    parser.add_argument("--scale", type=float, default=1.0, help="a share of every design size (0.1: a tenth)")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--seconds", type=int, default=10, help="wrk's time on each page")
    parser.add_argument("--smoke", action="store_true", help="the tiniest run: does the bench still work?")
    args = parser.parse_args()
    if args.smoke:
        args.scale, args.seconds = 0.0, 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))  # the worker and the servers are stopped too
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    instance = Path(tempfile.mkdtemp(prefix="capital-scale-"))
    env = bench_environment(instance, args.database_url, None)
    # No sender runs: the run measures how fast the mail is written, and sends none of it.
    env.update(CELERY_BROKER_URL=args.redis_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(free_port()),
               CAPITAL_MAIL_SENDERS="0")
    empty_database(env)
    os.environ.update(env)
    os.environ.pop("CELERY_BROKER_URL")  # this process counts and measures; the worker writes
    from capital import create_app

    app = create_app()
    logging.getLogger("alembic").setLevel(logging.WARNING)  # the migrations' own lines are not figures
    size = sizes(args.scale)
    now = datetime.now(UTC).replace(microsecond=0)
    started = time.perf_counter()
    ids = build(app, size, now)
    print(f"data set written in {time.perf_counter() - started:.0f} s", flush=True)
    outbox = outbox_pages(app)
    closing = vote(app, ids, now)
    announcing = announce(app, env, ids, instance)
    page = year_page(env, args.seconds)
    with app.app_context():
        from capital.extensions import db

        db.engine.dispose()
    shutil.rmtree(instance, ignore_errors=True)
    rows = figures(closing, announcing, outbox, page)
    report(size, closing, announcing, outbox, page, rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    missed = [f"{name} {figure['value']} (target {figure['target']})" for name, figure in rows.items()
              if not figure["met"]]
    print(f"the whole run took {time.perf_counter() - started:.0f} s")
    print("targets met" if not missed else "targets NOT met: " + "; ".join(missed))
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main())
