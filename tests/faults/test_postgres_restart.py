"""PostgreSQL restarted under load: while it is down every request fails cleanly (503, a page in
the reader's language saying to try again, ``Retry-After``), and once it is back requests succeed
again without the app being restarted. Nothing a person was told was saved is lost.

The test runs its own PostgreSQL cluster (initdb) on a spare loopback port and serves one app
object over HTTP in threads, so stopping the database harms nothing else on the machine.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from capital.domain.roles import Role
from capital.extensions import db
from capital.models import City, RoleGrant, User
from capital.services.accounts import hash_password
from tests.conftest import (
    PASSWORD, WebClient, add_authenticator_app, dispose, free_port, make_config, reset_postgres_schema,
)

pytestmark = pytest.mark.pg

OUTAGE_SECONDS = 3
# Public pages as served to anonymous readers (from the page cache once rendered), a page with
# no data, and a public page rendered afresh for each request (a query string skips the cache).
CACHED, STATIC, FRESH = ("/", "/archive"), ("/about/help",), ("/archive?page=1", "/api/v1/cycles?page=1")
READER_ROUTES = CACHED + STATIC + FRESH
NEEDS_DATABASE = {*FRESH, "/secretariat/", "POST /secretariat/cities/new"}
UNAVAILABLE = "The service is briefly unavailable"
UNAVAILABLE_FR = "Le service est momentanément indisponible"


def _postgres_bin(name: str) -> str:
    """The newest installed server's ``name`` (Debian keeps them out of PATH)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    path = found[-1] if found else shutil.which(name)
    assert path, f"{name} (PostgreSQL's server programs) is not installed"
    return path


class OwnPostgres:
    """A throw-away PostgreSQL cluster of this test's own, on a spare loopback port."""

    def __init__(self, folder: Path):
        self.folder, self.port = folder, free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        # The server refuses to run as root: as root, run it as the machine's postgres account.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(folder, "postgres")

    def _run(self, *command: str) -> None:
        subprocess.run([*self._as, *command], check=True, capture_output=True, timeout=60)

    def create(self) -> None:
        self._run(_postgres_bin("initdb"), "-D", str(self.folder / "data"), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(_postgres_bin("pg_ctl"), "-D", str(self.folder / "data"), "-o", options,
                  "-l", str(self.folder / "server.log"), "-w", "start")

    def stop(self) -> None:
        # Fast shutdown: open transactions are rolled back and every connection is cut, as in a
        # restart by an operator or a failover.
        self._run(_postgres_bin("pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")


@contextmanager
def own_postgres():
    folder = Path(tempfile.mkdtemp(prefix="capital-pg-"))
    server = OwnPostgres(folder)
    try:
        server.create()
        server.start()
        yield server
    finally:
        if (folder / "data" / "postmaster.pid").exists():
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def served(app):
    """``app`` over HTTP on a spare loopback port, a thread per request (as a threaded server does)."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@dataclass
class Answer:
    at: float
    route: str
    status: int
    body: str
    retry_after: str | None
    city: str | None = None


@dataclass
class Load:
    """Readers and a secretariat member at work, recording every answer until told to stop."""

    base: str
    answers: list[Answer] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # connection errors: never expected
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, route: str, response: requests.Response, city: str | None = None) -> None:
        with self.lock:
            self.answers.append(Answer(time.monotonic(), route, response.status_code, response.text,
                                       response.headers.get("Retry-After"), city))

    def reader(self, language: str) -> None:
        with requests.Session() as browser:
            browser.headers["Accept-Language"] = language
            while not self.stopping.is_set():
                for route in READER_ROUTES:
                    self._get(browser, route)

    def secretariat(self, number: int, token: str, cookies) -> None:
        with requests.Session() as browser:
            browser.headers["Accept-Language"] = "en"
            browser.cookies.update(cookies)
            n = 0
            while not self.stopping.is_set():
                n += 1
                name = f"Outage City {number}-{n}"
                try:
                    response = browser.post(f"{self.base}/secretariat/cities/new", allow_redirects=False, timeout=30,
                                            data={"csrf_token": token, "name": name, "country_code": "DE",
                                                  "timezone": "Europe/Berlin", "status": "1",
                                                  "contact_email": f"city{number}-{n}@outage.example"})
                    self.record("POST /secretariat/cities/new", response, city=name)
                except requests.RequestException as error:
                    self.failures.append(f"POST: {error!r}")
                self._get(browser, "/secretariat/")

    def _get(self, browser: requests.Session, route: str) -> None:
        try:
            self.record(route, browser.get(self.base + route, allow_redirects=False, timeout=30))
        except requests.RequestException as error:
            self.failures.append(f"{route}: {error!r}")


def _seed(app) -> str:
    """The secretariat account, with its authenticator app; the app's key."""
    with app.app_context():
        user = User(email="secretariat@capital.example", name="Secretariat", password_hash=hash_password(PASSWORD))
        user.role_grants.append(RoleGrant(role=Role.SECRETARIAT))
        key = add_authenticator_app(user)
        db.session.add(user)
        db.session.commit()
    return key


def _sign_in(base: str, key: str) -> tuple[str, object]:
    import pyotp

    with requests.Session() as browser:
        page = browser.get(f"{base}/account/login").text
        token = WebClient.TOKEN.search(page).group(1)
        response = browser.post(f"{base}/account/login", allow_redirects=False, data={
            "csrf_token": token, "email": "secretariat@capital.example", "password": PASSWORD})
        assert response.status_code == 302, response.text
        # The second step: a new session, with its own token.
        token = WebClient.TOKEN.search(browser.get(f"{base}/account/two-factor").text).group(1)
        response = browser.post(f"{base}/account/two-factor", allow_redirects=False, data={
            "csrf_token": token, "code": pyotp.TOTP(key).now()})
        assert response.status_code == 302, response.text
        # The token is rotated at sign-in: take the signed-in session's own.
        page = browser.get(f"{base}/about/help").text
        return WebClient.TOKEN.search(page).group(1), browser.cookies.copy()


def test_postgres_restarted_under_load_requests_fail_cleanly_then_succeed_without_restarting_the_app(
        tmp_path, _catalogs):
    from capital import create_app

    with own_postgres() as postgres:
        app = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=postgres.url))
        try:
            reset_postgres_schema(app)
            key = _seed(app)
            with served(app) as base:
                token, cookies = _sign_in(base, key)
                load = Load(base)
                workers = [threading.Thread(target=load.reader, args=(language,)) for language in ("en", "fr")]
                workers += [threading.Thread(target=load.secretariat, args=(n, token, cookies)) for n in (1, 2)]
                for worker in workers:
                    worker.start()
                try:
                    time.sleep(1)
                    postgres.stop()
                    down = time.monotonic()
                    time.sleep(OUTAGE_SECONDS)
                    restart = time.monotonic()
                    postgres.start()
                    up = time.monotonic()
                    time.sleep(3)
                finally:
                    load.stopping.set()
                    for worker in workers:
                        worker.join(timeout=60)

                # No request broke the connection or fell over: each was answered, and cleanly.
                assert load.failures == []
                statuses = {a.status for a in load.answers}
                assert statuses <= {200, 302, 503}, [(a.route, a.status, a.body[:3000]) for a in load.answers
                                                     if a.status not in (200, 302, 503)][:1]
                refused = [a for a in load.answers if a.status == 503]
                during = [a for a in load.answers if down < a.at < restart]
                assert {a.route for a in during} == {*READER_ROUTES, *NEEDS_DATABASE}
                # Pages that need the database say so; pages without data are unaffected. (Cached
                # pages are re-rendered after every edit, and the secretariat edits all along.)
                assert {a.status for a in during if a.route in NEEDS_DATABASE} == {503}
                assert {a.status for a in during if a.route in STATIC} == {200}
                for answer in refused:
                    assert answer.retry_after and int(answer.retry_after) > 0
                    text = answer.body
                    if answer.route.startswith("/api/"):  # the API says it in JSON, as its document says
                        document = json.loads(answer.body)
                        assert document.keys() == {"error", "message"}
                        text = document["error"]
                    assert UNAVAILABLE in text or UNAVAILABLE_FR in text
                    assert "Traceback" not in answer.body
                    if answer.route == "/secretariat/":  # nobody can be looked up: no false "Sign in"
                        assert "Sign in" not in answer.body and "Sign out" not in answer.body
                assert any(UNAVAILABLE_FR in a.body for a in refused if not a.route.startswith("/api/"))  # in the reader's language

                # Back: after the first second, every request succeeds, on the same app object.
                after = [a for a in load.answers if a.at > up + 1]
                assert after and all(a.status in (200, 302) for a in after), [(a.route, a.status) for a in after
                                                                               if a.status not in (200, 302)]
                assert {a.route for a in after} == {*READER_ROUTES, *NEEDS_DATABASE}

                # Every city the secretariat was told was added exists once; none it was told
                # failed was stored half-way (at most the one whose commit the outage cut off).
                with app.app_context():
                    stored = db.session.scalars(select(City.name)).all()
                added = [a.city for a in load.answers if a.city and a.status == 302]
                failed = [a.city for a in load.answers if a.city and a.status == 503]
                assert len(stored) == len(set(stored))
                assert set(added) <= set(stored)
                assert len(set(failed) & set(stored)) <= 2  # one per secretariat thread, at most

                document = requests.get(f"{base}/api/v1/openapi.json").json()
                assert "503" in document["paths"]["/cycles"]["get"]["responses"]

                # The secretariat is still signed in: the outage did not end the session.
                with requests.Session() as browser:
                    browser.cookies.update(cookies)
                    page = browser.get(f"{base}/secretariat/", allow_redirects=False)
                    assert page.status_code == 200 and "Sign out" in page.text

                # With nobody editing, the pages readers come for on announcement day stay up
                # from the page cache while the database is down, with or without a session.
                with requests.Session() as reader:
                    assert reader.get(f"{base}/archive").status_code == 200  # rendered, and cached
                    postgres.stop()
                    try:
                        assert requests.get(f"{base}/archive").status_code == 200
                        cached = reader.get(f"{base}/archive")
                        assert cached.status_code == 200 and cached.headers["X-Page-Cache"] == "hit"
                        assert reader.get(f"{base}/archive?page=1").status_code == 503
                    finally:
                        postgres.start()
        finally:
            dispose(app)
