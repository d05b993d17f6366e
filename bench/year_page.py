"""Load the public year page the way announcement day does, beside a bare Flask "hello world".

Run from the repository root (``wrk`` from Debian: ``apt-get install wrk``)::

    .venv/bin/python bench/year_page.py [--database-url URL] [--redis-url URL] [--seconds 10] [--connections 8]
        [--smoke]

It builds a fresh database (a temporary SQLite file unless ``--database-url`` names an empty
PostgreSQL database, whose tables it replaces) with the demo data and an announced year
counted by the real tally engine, serves the app with gunicorn (two sync workers) on
loopback, and serves ``bench/hello.py`` the same way. Then, from a second process, ``wrk``
loads the year page (``/2030``, as an anonymous reader in English, no cookies kept: every
request is a new visitor) and the hello world in turn, each ``--rounds`` times, a bounded
number of connections each, and prints requests/s, p50/p99 latency and errors, the best round
of each, and the ratio. Target: the year page at 0.8 or more of the hello-world rate, no error.
``--smoke``: one second, one round, two connections (a check that the bench runs, not a figure).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import closing, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

YEAR = 2030
TARGET = 0.8


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_database(env: dict, seed: str | None = None) -> None:
    """Migrate, then run ``seed`` (by default: load the demo and an announced, counted year) in a
    child process, with its own config."""
    flask = [str(Path(sys.executable).with_name("flask")), "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([sys.executable, "-c", seed or _SEED], cwd=ROOT, env=env, check=True)


_SEED = f"""
from datetime import UTC, datetime
from capital import create_app
from capital.extensions import db
from capital.models import City
from capital.services.demo import load_demo
from tests.public_data import make_counted_cycle

app = create_app()
with app.app_context():
    load_demo(datetime(2026, 11, 24, 9, tzinfo=UTC))
    counter = iter(range(1000))

    def make_city(name, *, country, timezone):
        n = next(counter)
        city = City(name=name, name_latin=name, country_code=country, timezone=timezone,
                    contact_email=f"bench{{n}}@city.example", latitude=10.0 + n, longitude=10.0 + n)
        db.session.add(city)
        db.session.flush()
        return city

    make_counted_cycle(db, make_city, year={YEAR}, announcement_dt=datetime(2026, 3, 16, 12, tzinfo=UTC))
"""


def bench_environment(instance: Path, database_url: str, redis_url: str | None) -> dict:
    """The app's environment for a bench: this shell's, without its Capital settings."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("CAPITAL_", "MAIL_")) and key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(CAPITAL_INSTANCE_PATH=str(instance), CAPITAL_CHECK_SERVICES_AT_START="false",
               SECRET_KEY="bench-" + "x" * 40, DATABASE_URL=database_url, CAPITAL_BASE_URL="http://127.0.0.1")
    if redis_url:
        env["REDIS_URL"] = redis_url
        forget_cached_pages(redis_url)
    return env


def empty_database(env: dict) -> None:
    """Replace every table of the PostgreSQL database ``env`` names."""
    subprocess.run([sys.executable, "-c", _DROP], cwd=ROOT, env=env, check=True)


@contextmanager
def gunicorn(module: str, env: dict, port: int, path: str):
    command = [str(Path(sys.executable).with_name("gunicorn")), "--workers", "2", "--bind", f"127.0.0.1:{port}",
               "--log-level", "warning", module]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 120  # a loaded machine starts gunicorn slowly
        while True:
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Accept-Language": "en"})
                with urllib.request.urlopen(request, timeout=2) as response:
                    assert response.status == 200
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{module} did not start") from None
                time.sleep(0.2)
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def forget_cached_pages(url: str) -> None:
    """Remove the page cache's keys (only those) from the redis database the run used."""
    import redis

    from capital.public.cache import KEY_PREFIX

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(KEY_PREFIX + "*"))
    if keys:
        client.delete(*keys)
    client.close()


def run_wrk(url: str, seconds: int, connections: int) -> dict:
    output = subprocess.run(["wrk", "--threads", "1", "--connections", str(connections), "--duration", f"{seconds}s",
                             "--latency", "--header", "Accept-Language: en", url],
                            check=True, capture_output=True, text=True).stdout
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1)),
        "p99": _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "errors": sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|connect|read|write|timeout):? (\d+)",
                                                 output)),
    }


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: a temporary SQLite file)")
    parser.add_argument("--redis-url", help="cache pages in redis (default: in each worker's memory)")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="the tiniest run: does the bench still work?")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.rounds, args.connections = 1, 1, 2
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")

    instance = Path(tempfile.mkdtemp(prefix="capital-bench-"))
    env = bench_environment(instance, args.database_url or f"sqlite:///{instance / 'capital.db'}", args.redis_url)
    if args.database_url:
        empty_database(env)
    prepare_database(env)

    page_port, hello_port = free_port(), free_port()
    results: dict[str, list[dict]] = {"year page": [], "hello world": []}
    with gunicorn("wsgi:app", env, page_port, f"/{YEAR}"), gunicorn("bench.hello:app", env, hello_port, "/"):
        for _ in range(args.rounds):
            results["year page"].append(run_wrk(f"http://127.0.0.1:{page_port}/{YEAR}", args.seconds,
                                                args.connections))
            results["hello world"].append(run_wrk(f"http://127.0.0.1:{hello_port}/", args.seconds, args.connections))
    shutil.rmtree(instance, ignore_errors=True)
    if args.redis_url:
        forget_cached_pages(args.redis_url)

    backend = "PostgreSQL" if args.database_url else "SQLite"
    cache = "redis" if args.redis_url else "in-process"
    print(f"gunicorn, 2 sync workers; wrk, 1 thread, {args.connections} connections, {args.seconds} s x "
          f"{args.rounds} rounds; {backend}, page cache {cache}; {os.cpu_count()} CPUs")
    print(f"{'':<12} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'errors':>7}")
    best = {}
    for name, rounds in results.items():
        for number, r in enumerate(rounds, start=1):
            print(f"{name + ' #' + str(number):<12} {r['rps']:>9.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} "
                  f"{r['requests']:>9} {r['errors']:>7}")
        best[name] = max(rounds, key=lambda r: r["rps"])
    ratio = best["year page"]["rps"] / best["hello world"]["rps"]
    errors = sum(r["errors"] for rounds in results.values() for r in rounds)
    print(f"ratio (best rounds): {ratio:.2f} of hello world (target >= {TARGET}); errors: {errors} (target 0)")
    missed = [f"the year page at {ratio:.2f} of hello world"] * (ratio < TARGET) + [f"{errors} errors"] * (errors > 0)
    print("targets met" if not missed else "targets NOT met: " + "; ".join(missed))
    return 0 if not missed else 1


_DROP = """
from sqlalchemy import create_engine, text
import os
engine = create_engine(os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1))
with engine.begin() as connection:
    connection.execute(text("DROP SCHEMA public CASCADE"))
    connection.execute(text("CREATE SCHEMA public"))
engine.dispose()
"""

if __name__ == "__main__":
    sys.exit(main())
