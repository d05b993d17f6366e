"""Shared fixtures: the app on PostgreSQL (the machine's service), clients, factories.

PostgreSQL and redis are real services (TEST_DATABASE_URL, TEST_REDIS_URL); the SQLite
default is proven by tests that build their own app on a temporary SQLite file.
"""

from __future__ import annotations

import os
import re
import socket
from contextlib import closing
from datetime import date, timedelta

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from sqlalchemy import text

from capital.config import ROOT, Config

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PASSWORD = "correct horse battery"


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
    from capital.extensions import limiter

    _truncate_all(session_app)
    limiter.reset()
    outbox = session_app.config["MAIL_OUTBOX_DIR"]
    if outbox.exists():
        for path in outbox.iterdir():
            path.unlink()
    with session_app.app_context():
        yield session_app
        from capital.extensions import db

        db.session.remove()


@pytest.fixture
def db(app):
    from capital.extensions import db

    return db


class WebClient:
    """A test client that signs in and adds the session's CSRF token to its forms."""

    TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

    def __init__(self, flask_client):
        self.raw = flask_client

    def get(self, *args, **kwargs):
        return self.raw.get(*args, **kwargs)

    def csrf_token(self) -> str:
        page = self.raw.get("/").get_data(as_text=True)
        return self.TOKEN.search(page).group(1)

    def post(self, url, data=None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.raw.post(url, data=data, **kwargs)

    def login(self, email, password=PASSWORD):
        response = self.post("/account/login", {"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
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
    from capital.models import BoardTerm, RoleGrant, User
    from capital.services.accounts import hash_password

    counter = iter(range(1, 100000))

    def factory(*roles: Role, email=None, city=None, locale=None, password=PASSWORD, name=None):
        n = next(counter)
        user = User(email=email or f"person{n}@capital.example", name=name or f"Person {n}",
                    password_hash=hash_password(password), city_id=city.id if city else None, locale=locale)
        for role in roles:
            user.role_grants.append(RoleGrant(role=role))
        if Role.BOARD in roles:
            today = date.today()
            user.board_terms.append(BoardTerm(starts_on=today - timedelta(days=365), ends_on=today + timedelta(days=365)))
        db.session.add(user)
        db.session.commit()
        return user

    return factory
