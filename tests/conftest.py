"""Shared fixtures: the app on PostgreSQL (the machine's service), clients, factories.

PostgreSQL and redis are real services (TEST_DATABASE_URL, TEST_REDIS_URL); the SQLite
default is proven by tests that build their own app on a temporary SQLite file.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
from contextlib import closing, contextmanager
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from sqlalchemy import text

from capital.config import ROOT, Config

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PASSWORD = "correct horse battery"

# The app reads the server clock, so the factories build around the moment the suite starts
# (to the second), or around a ``now`` they are given. fixture_timeline() keeps the result
# valid whatever day of the year that is (tests/test_fixture_timeline.py runs it over a year).
NOW = datetime.now(UTC).replace(microsecond=0)

# The factory cycle's deadlines, relative to its nomination deadline.
FIXTURE_NOMINATIONS_OPEN = timedelta(days=-60)
FIXTURE_VOTING_OPEN = timedelta(days=20)
FIXTURE_VOTING_CLOSE = timedelta(days=40)
FIXTURE_ANNOUNCEMENT = timedelta(days=50)


def fixture_timeline(now: datetime, close_in: timedelta = timedelta(days=10)) -> dict:
    """The year and deadlines of the factory cycle: nominations close ``close_in`` after ``now``.

    The year is the first whose 16 May celebration begins after the announcement, so the
    timeline is valid (ordered, before the celebration) for any ``now``.
    """
    from capital.domain.timeline import celebration_day

    close = now + close_in
    announcement = close + FIXTURE_ANNOUNCEMENT
    year = announcement.year
    if announcement.date() >= celebration_day(year):
        year += 1
    return dict(
        year=year, celebration_date=celebration_day(year),
        nominations_open_dt=close + FIXTURE_NOMINATIONS_OPEN, nominations_close_dt=close,
        voting_open_dt=close + FIXTURE_VOTING_OPEN, voting_close_dt=close + FIXTURE_VOTING_CLOSE,
        announcement_dt=announcement,
    )


@contextmanager
def smtp_server():
    """A real SMTP server (aiosmtpd) on loopback; yields its handler, which keeps the mail."""
    from aiosmtpd.controller import Controller

    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def inbox():
    with smtp_server() as handler:
        yield handler


class Inbox:
    """An aiosmtpd handler that keeps what it accepts and refuses the addresses it is told to."""

    def __init__(self):
        self.messages = []
        self.refused = {}  # address -> SMTP reply to RCPT TO
        self.data_delay = 0.0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return self.refused[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.data_delay)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


def at_once(app, action, count: int = 2) -> list:
    """Run ``action()`` in ``count`` threads released together, each in its own app context; their results.

    A thread's exception fails the test here (it would otherwise be lost with the thread).
    """
    import threading

    start, results, errors = threading.Barrier(count), [], []

    def run():
        try:
            with app.app_context():
                start.wait(timeout=10)
                results.append(action())
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(results) == count
    return results


# The fixtures through which a test reaches PostgreSQL; a test using any of them is marked `pg`.
PG_FIXTURES = frozenset({"session_app", "app", "db", "client"})


def pytest_collection_modifyitems(config, items):
    """Mark each test with the services it needs (pg, redis, browser), so they can be deselected."""
    browser_dir = ROOT / "tests" / "browser"
    for item in items:
        if PG_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.pg)
        if browser_dir in item.path.parents:
            item.add_marker(pytest.mark.browser)


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def compile_catalogs() -> None:
    """Compile every .po the way the set-up command does, so tests see real translations."""
    for po_path in (ROOT / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as handle:
            catalog = read_po(handle)
        with mo_path.open("wb") as handle:
            write_mo(handle, catalog)


def make_config(instance_path, **overrides) -> Config:
    """A Config read from a clean environment, then overridden for the test."""
    saved = {name: os.environ.pop(name) for name in list(os.environ)
             if name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SECRET_KEY", "CAPITAL_ENV")
             or name.startswith(("MAIL_", "CAPITAL_"))}
    try:
        os.environ["CAPITAL_INSTANCE_PATH"] = str(instance_path)
        config = Config()
    finally:
        os.environ.pop("CAPITAL_INSTANCE_PATH", None)
        os.environ.update(saved)
    config.TESTING = True
    config.CHECK_SERVICES_AT_START = False
    config.SQLALCHEMY_DATABASE_URI = TEST_DATABASE_URL
    config.SERVER_NAME = None
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


def reset_postgres_schema(app) -> None:
    """Drop everything, then build the schema with the migrations (as production does)."""
    from flask_migrate import upgrade

    from capital.extensions import db

    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        upgrade()


@pytest.fixture(scope="session")
def _catalogs():
    compile_catalogs()


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing():
    """Argon2 at its cheapest: the suite signs in hundreds of times (production keeps the defaults)."""
    from argon2 import PasswordHasher
    from argon2.profiles import CHEAPEST

    from capital.services import accounts

    production = accounts._hasher
    accounts._hasher = PasswordHasher.from_parameters(CHEAPEST)
    yield
    accounts._hasher = production


def dispose(app) -> None:
    """Close the app's pooled connections (left open, they warn when collected)."""
    from capital.extensions import db

    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture(scope="session")
def session_app(tmp_path_factory, _catalogs):
    from capital import create_app

    app = create_app(make_config(tmp_path_factory.mktemp("instance")))
    reset_postgres_schema(app)
    yield app
    dispose(app)


@pytest.fixture
def sqlite_app(tmp_path, _catalogs):
    """An app on the embedded default: a SQLite file built by the migrations."""
    from flask_migrate import upgrade

    from capital import create_app

    app = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'capital.db'}"))
    with app.app_context():
        upgrade()
    yield app
    dispose(app)


def _truncate_all(app) -> None:
    from capital.extensions import db

    with app.app_context():
        db.session.remove()
        tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def app(session_app):
    """The app on PostgreSQL with empty tables; each test starts clean."""
    _truncate_all(session_app)
    session_app.extensions["capital_throttle"].reset()
    session_app.extensions["capital_page_cache"].bump()  # the truncation bypassed the ORM's commit hook
    for folder in (session_app.config["MAIL_OUTBOX_DIR"], session_app.config["UPLOAD_DIR"]):
        shutil.rmtree(folder, ignore_errors=True)
    with session_app.app_context():
        yield session_app
        from capital.extensions import db

        db.session.remove()


@pytest.fixture
def db(app):
    from capital.extensions import db

    return db


# The key the set-up page shows for typing into an authenticator app by hand.
APP_KEY = re.compile(r'id="key"[^>]*>([A-Z2-7 ]+)<')


def add_authenticator_app(user) -> str:
    """Give ``user`` (in the session, not yet flushed or committed) an authenticator app; its secret."""
    from capital.models import TotpFactor
    from capital.services import factors

    secret = factors.new_totp_secret()
    user.totp_factor = TotpFactor(secret_encrypted=factors.seal(secret))
    return secret


def second_factor_code(app, email: str) -> str | None:
    """A code the app accepts now as ``email``'s second factor, or None if they have none.

    A code of the authenticator app for the current time step, or the next if that one was used (never
    the previous one: the step could end before the server checks it); when those are used up (several
    sign-ins within seconds), a recovery code added for the purpose. Tests that sign in as someone who
    needs a second factor go through this.
    """
    import pyotp

    from capital.domain.second_factor import candidate_steps, new_recovery_codes, time_step
    from capital.extensions import db
    from capital.models import RecoveryCode, User
    from capital.models.types import utcnow
    from capital.services import factors
    from capital.services.accounts import hash_password

    with app.app_context():
        user = User.by_email(email)
        if user is None or not factors.has_second_factor(user):
            return None
        secret = factors.totp_secret(user)
        now = utcnow()
        steps = [step for step in candidate_steps(now, user.totp_factor.last_step)
                 if step >= time_step(now)] if secret else []
        if steps:
            return pyotp.TOTP(secret).generate_otp(steps[0])
        code = new_recovery_codes()[0]
        db.session.add(RecoveryCode(user_id=user.id, code_hash=hash_password(code)))
        db.session.commit()
        return code


class WebClient:
    """A test client that signs in and adds the session's CSRF token to its forms.

    Each request runs in a fresh application context, as in production: otherwise it would
    share the test's ``g`` (the signed-in user, the locale) and database session.
    """

    TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

    def __init__(self, flask_client):
        self.raw = flask_client
        self.app = flask_client.application

    def _request(self, method, *args, **kwargs):
        from flask import has_app_context

        from capital.extensions import db

        with self.app.app_context():
            response = getattr(self.raw, method)(*args, **kwargs)
            response.get_data()
            response.close()
        if has_app_context():
            db.session.expire_all()  # the test's own session sees what the request committed
        return response

    def get(self, *args, **kwargs):
        return self._request("get", *args, **kwargs)

    def csrf_token(self) -> str:
        """The session's CSRF token (it stays valid for the whole session)."""
        if getattr(self, "_token", None) is None:
            page = self.get("/about/help")  # never cached; redirected only half signed in, to the second step
            if page.status_code == 302:
                page = self.get(page.headers["Location"])
            self._token = self.TOKEN.search(page.get_data(as_text=True)).group(1)
        return self._token

    # Posts that start or end a session, which comes with a new CSRF token.
    NEW_SESSION = ("/account/login", "/account/logout", "/account/invitation/", "/account/two-factor",
                   "/account/security/app", "/account/security/passkeys/new")

    def post(self, url, data=None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        if url.startswith("/account/confirm-password") and "code" not in data and "credential" not in data:
            # Confirming it is you takes the second factor too, for someone who has one.
            code = second_factor_code(self.app, getattr(self, "_email", ""))
            if code:
                data["code"] = code
        response = self._request("post", url, data=data, **kwargs)
        if url.startswith(self.NEW_SESSION):
            self._token = None
        return response

    def post_raw(self, url, **kwargs):
        """A POST without the CSRF token."""
        return self._request("post", url, **kwargs)

    def login(self, email, password=PASSWORD):
        """Sign in; with a second factor, answer its challenge (or set up an app if the role needs one
        and the person has none), so that "signed in as the secretariat" is one call."""
        response = self.post("/account/login", {"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        self._email = email.strip().lower()
        location = response.headers["Location"]
        if location.startswith("/account/two-factor"):
            response = self.post("/account/two-factor", {"code": second_factor_code(self.app, self._email)})
            assert response.status_code == 302, response.get_data(as_text=True)
        elif location.startswith("/account/security/app"):
            import pyotp

            key = APP_KEY.search(self.get(location).get_data(as_text=True)).group(1).replace(" ", "")
            response = self.post(location, {"code": pyotp.TOTP(key).now()})
            assert response.headers["Location"] == "/account/security/recovery-codes", response.get_data(as_text=True)
            assert "Your recovery codes" in self.get(response.headers["Location"]).get_data(as_text=True)
        return response


@pytest.fixture
def client(app):
    return WebClient(app.test_client())


@pytest.fixture
def make_city(db):
    from capital.domain.membership import CityStatus, SignatureForm
    from capital.models import City, DeclarationSignature

    counter = iter(range(1, 100000))

    def factory(name=None, *, status=CityStatus.MEMBER, country="DE", timezone="Europe/Berlin", signed=True):
        n = next(counter)
        name = name or f"City {n}"
        city = City(name=name, name_latin=name, country_code=country, timezone=timezone,
                    contact_email=f"contact{n}@city.example", status=status)
        if signed:
            city.signatures.append(DeclarationSignature(form=SignatureForm.COMMITTED, signed_on=date(2019, 8, 31),
                                                        signatory_name=f"Mayor of {name}"))
        db.session.add(city)
        db.session.commit()
        return city

    return factory


@pytest.fixture
def make_user(db):
    from capital.domain.roles import Role
    from flask import current_app

    from capital.domain.second_factor import requires_second_factor
    from capital.models import BoardTerm, RoleGrant, User
    from capital.services.accounts import hash_password

    counter = iter(range(1, 100000))

    def factory(*roles: Role, email=None, city=None, locale=None, password=PASSWORD, name=None, now=NOW,
                second_factor=None):
        """``second_factor``: give an authenticator app (by default, to the roles that require one)."""
        n = next(counter)
        user = User(email=email or f"person{n}@capital.example", name=name or f"Person {n}",
                    password_hash=hash_password(password), city_id=city.id if city else None, locale=locale)
        for role in roles:
            user.role_grants.append(RoleGrant(role=role))
        if second_factor or (second_factor is None
                             and requires_second_factor(roles, current_app.config["REQUIRE_SECOND_FACTOR"])):
            add_authenticator_app(user)
        if Role.BOARD in roles:
            today = now.date()  # the UTC day, as the app counts board terms
            user.board_terms.append(BoardTerm(starts_on=today - timedelta(days=365), ends_on=today + timedelta(days=365)))
        db.session.add(user)
        db.session.commit()
        return user

    return factory


def pdf_bytes(pages: int = 1) -> bytes:
    """A real PDF document, as a mayor's scanner would produce."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.fixture
def make_cycle(db):
    """A cycle whose deadlines sit around ``now``: by default nominations are open for ten more days."""
    from capital.domain.phase import Phase
    from capital.domain.timeline import celebration_day
    from capital.models import Cycle

    def factory(phase=Phase.NOMINATIONS_OPEN, *, year=None, close_in=timedelta(days=10), now=NOW, **fields):
        values = fixture_timeline(now, close_in)
        if year is not None:
            values.update(year=year, celebration_date=celebration_day(year))
        values.update(phase=phase, **fields)
        cycle = Cycle(**values)
        db.session.add(cycle)
        db.session.commit()
        return cycle

    return factory


VOTE_YEAR = 2031


@pytest.fixture
def make_vote(db, make_city, make_user):
    """A cycle whose nominations are closed and reviewed, with eligible nominations and a board:
    ``vote.open(now)`` opens voting by the secretariat's hand. Deadlines are fixed (2031)."""
    from datetime import UTC, datetime

    from capital.domain.nominations import NominationState
    from capital.domain.phase import Phase
    from capital.domain.roles import Role
    from capital.domain.timeline import celebration_day
    from capital.models import BoardTerm, Cycle, Nomination

    class Vote:
        OPENS = datetime(VOTE_YEAR, 3, 1, 12, tzinfo=UTC)
        CLOSES = datetime(VOTE_YEAR, 3, 20, 12, tzinfo=UTC)

        def __init__(self, hosts, members, terms=(date(VOTE_YEAR - 1, 1, 1), date(VOTE_YEAR, 12, 31)), **settings):
            self.secretariat = make_user(Role.SECRETARIAT)
            self.cycle = Cycle(year=VOTE_YEAR, celebration_date=celebration_day(VOTE_YEAR),
                               phase=Phase.NOMINATIONS_CLOSED,
                               nominations_open_dt=datetime(VOTE_YEAR - 1, 10, 1, 12, tzinfo=UTC),
                               nominations_close_dt=datetime(VOTE_YEAR, 1, 15, 12, tzinfo=UTC),
                               voting_open_dt=self.OPENS, voting_close_dt=self.CLOSES,
                               announcement_dt=datetime(VOTE_YEAR, 4, 1, 12, tzinfo=UTC), **settings)
            db.session.add(self.cycle)
            self.cities = {name: make_city(name) for name in dict.fromkeys(hosts)}
            self.nominations = []
            for host in hosts:
                nominator = make_city()
                self.nominations.append(Nomination(cycle=self.cycle, nominating_city_id=nominator.id,
                                                   host_city_id=self.cities[host].id, title=f"{host} together",
                                                   state=NominationState.ELIGIBLE))
            db.session.add_all(self.nominations)
            self.members = []
            for n in range(members):
                user = make_user(Role.BOARD, name=f"Member {n + 1}")
                user.board_terms[:] = [BoardTerm(starts_on=terms[0], ends_on=terms[1])]
                self.members.append(user)
            db.session.commit()
            self.cycle_id = self.cycle.id  # for threads, which must not touch this session

        def open(self, now=None):
            from capital.services.cycles import open_voting

            open_voting(self.cycle, actor=self.secretariat, now=now or self.OPENS)
            db.session.commit()
            return self.cycle.rounds[-1]

        def close(self, now=None):
            from capital.services.cycles import close_voting

            close_voting(self.cycle, actor=self.secretariat, now=now or self.CLOSES)
            db.session.commit()

        def ids(self):
            return {n.host_city.name: n.id for n in self.nominations}

    def factory(hosts=("Palermo", "Venlo", "Lyon"), members=7, **settings):
        """``terms``: the members' board term, (first day, last day); by default 2030–2031."""
        return Vote(list(hosts), members, **settings)

    return factory


@pytest.fixture
def make_shortlist_vote(db, make_vote):
    """A vote whose shortlist vote (a shortlist of ``size``) opened half an hour before ``now``, on the real
    clock's terms: nominations closed a month ago, the members' terms cover ``now``."""
    from capital.domain.phase import Phase
    from capital.services.cycles import change_phase

    def factory(now, hosts=("Palermo", "Venlo", "Lyon", "Tunis"), members=3, size=2):
        vote = make_vote(hosts=hosts, members=members, terms=(now.date() - timedelta(days=400), date(2031, 12, 31)),
                         shortlist_size=size, shortlist_open_dt=now - timedelta(hours=1),
                         shortlist_close_dt=now + timedelta(days=7), shortlist_publication_dt=now + timedelta(days=8),
                         finalist_update_close_dt=now + timedelta(days=9))
        vote.cycle.nominations_open_dt = now - timedelta(days=60)
        vote.cycle.nominations_close_dt = now - timedelta(days=30)
        change_phase(vote.cycle, Phase.SHORTLIST_VOTING, actor=vote.secretariat, now=now - timedelta(minutes=30),
                     by_hand=True)
        db.session.commit()
        return vote

    return factory


def write_group_mail(now) -> int:
    """Write every recorded group mail at ``now``, range by range, as the writer tasks would,
    starting no task (the tests send by hand where it matters); the number of mails written.

    The tasks a test's commit left pending (the writers and senders) are dropped."""
    from capital.extensions import db
    from capital.services.mailings import unwritten_mailing_ids, write_mailing

    db.session.info.clear()
    written, seen = 0, None
    while (ids := unwritten_mailing_ids()) and ids != seen:  # a mailing that follows another comes next
        seen = ids
        written += sum(write_mailing(mailing_id, now, start_tasks=False) for mailing_id in ids)
    db.session.expire_all()
    return written


def body_text(mail) -> str:
    """The text of ``mail`` as its recipient receives it (a mailing's part, their name put in)."""
    from capital.services.mail import mail_bodies

    return mail_bodies(mail)[0]


def body_html(mail) -> str:
    """The HTML of ``mail`` as its recipient receives it."""
    from capital.services.mail import mail_bodies

    return mail_bodies(mail)[1]


def review_sizes(client, url: str, posts) -> tuple[set[str], set[int], set[int]]:
    """Each of ``posts`` sent to the review page ``url`` (asking for compression): the ballots said in
    words, the sizes of the pages and the sizes of the cast forms' bodies they hold, each a set."""
    from html.parser import HTMLParser
    from urllib.parse import urlencode

    class CastForm(HTMLParser):
        def __init__(self):
            super().__init__()
            self.fields = []

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "input" and attrs.get("type") == "hidden":
                self.fields.append((attrs["name"], attrs.get("value") or ""))

    words, sizes, bodies = set(), set(), set()
    for data in posts:
        response = client.post(url, data, headers={"Accept-Encoding": "gzip, br"})
        assert response.headers.get("Content-Encoding") in (None, "identity")  # compressed, the size would vary
        page = response.get_data(as_text=True)
        words.add(re.search(r'<p class="ranking-words" dir="auto"><strong>(.*?)</strong>', page).group(1))
        sizes.add(len(response.get_data()))
        form = CastForm()
        form.feed(page)
        bodies.add(len(urlencode([*form.fields, ("cast", "1")])))
    return words, sizes, bodies
