"""Configuration from the environment: safe defaults, clear refusals, and no secret in a message."""

from __future__ import annotations

import stat

import pytest

from capital import ConfigError, create_app
from capital.config import Config
from tests.conftest import TEST_REDIS_URL

SETTINGS = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SECRET_KEY")
LONG_KEY = "k" * 40


@pytest.fixture
def env(monkeypatch, tmp_path):
    """An environment holding none of Capital's settings, with its instance folder in tmp_path."""
    import os

    for name in list(os.environ):
        if name in SETTINGS or name.startswith(("CAPITAL_", "MAIL_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CAPITAL_INSTANCE_PATH", str(tmp_path))
    return monkeypatch


@pytest.fixture
def restore_celery_default(session_app):
    """create_app makes its Celery the default one; give it back to the shared app afterwards."""
    yield
    session_app.extensions["celery"].set_default()


def test_the_database_defaults_to_sqlite_in_the_instance_folder(env, tmp_path, restore_celery_default):
    config = Config()
    assert config.SQLALCHEMY_DATABASE_URI == f"sqlite:///{tmp_path / 'capital.db'}"
    app = create_app(config)  # the start-up check opens the database, which creates the file
    assert app.config["CHECK_SERVICES_AT_START"] is True
    assert (tmp_path / "capital.db").is_file()


@pytest.mark.parametrize("raw, expected", [
    ("postgres://capital:pw@db.example:5432/capital", "postgresql+psycopg://capital:pw@db.example:5432/capital"),
    ("postgresql://capital@db.example/capital", "postgresql+psycopg://capital@db.example/capital"),
    ("postgresql+psycopg://capital@db.example/capital", "postgresql+psycopg://capital@db.example/capital"),
])
def test_postgres_urls_are_normalised_to_psycopg(env, raw, expected):
    env.setenv("DATABASE_URL", raw)
    assert Config().SQLALCHEMY_DATABASE_URI == expected


@pytest.mark.parametrize("raw", [
    "mysql://capital:s3cret-pw@db.example/capital",
    "not a url at all",
    "postgresql://capital:s3cret-pw@db.example:notaport/capital",
])
def test_an_unsupported_or_malformed_database_url_is_refused_by_name(env, raw):
    env.setenv("DATABASE_URL", raw)
    with pytest.raises(ConfigError) as refused:
        Config()
    assert "DATABASE_URL" in str(refused.value)
    assert "s3cret-pw" not in str(refused.value)


def test_a_broker_url_that_is_not_redis_is_refused_without_echoing_its_password(env):
    env.setenv("REDIS_URL", "http://user:s3cret-pw@cache.example/0")
    with pytest.raises(ConfigError) as refused:
        Config()
    assert "REDIS_URL" in str(refused.value)
    assert "s3cret-pw" not in str(refused.value)


def test_a_non_boolean_mail_use_tls_is_refused_by_name(env):
    env.setenv("MAIL_USE_TLS", "perhaps")
    with pytest.raises(ConfigError, match="MAIL_USE_TLS"):
        Config()


def test_a_non_numeric_mail_port_is_refused_by_name(env):
    env.setenv("MAIL_PORT", "smtp")
    with pytest.raises(ConfigError, match="MAIL_PORT"):
        Config()


def test_production_refuses_to_start_without_a_secret_key(env, tmp_path):
    env.setenv("CAPITAL_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Config()
    assert not (tmp_path / "secret_key").exists()  # none invented behind the operator's back


def test_production_refuses_a_short_secret_key(env):
    env.setenv("CAPITAL_ENV", "production")
    env.setenv("SECRET_KEY", "short")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Config()


def test_production_accepts_a_long_secret_key(env):
    env.setenv("CAPITAL_ENV", "production")
    env.setenv("SECRET_KEY", LONG_KEY)
    config = Config()
    assert config.SECRET_KEY == LONG_KEY
    assert config.SESSION_COOKIE_SECURE is True


def test_development_generates_a_private_secret_key_once_and_reuses_it(env, tmp_path):
    first = Config().SECRET_KEY
    path = tmp_path / "secret_key"
    assert len(first) >= 32
    assert path.read_text().strip() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Config().SECRET_KEY == first  # sessions survive a restart


def test_a_secret_key_from_the_environment_wins_and_writes_no_file(env, tmp_path):
    env.setenv("SECRET_KEY", LONG_KEY)
    assert Config().SECRET_KEY == LONG_KEY
    assert not (tmp_path / "secret_key").exists()


def test_start_up_fails_clearly_when_the_database_is_unreachable(env, restore_celery_default):
    env.setenv("DATABASE_URL", "postgresql://postgres:s3cret-pw@127.0.0.1:1/x")
    env.setenv("CAPITAL_CHECK_SERVICES_AT_START", "true")
    with pytest.raises(ConfigError) as refused:
        create_app()
    message = str(refused.value)
    assert "DATABASE_URL" in message
    assert "127.0.0.1:1" in message
    assert "s3cret-pw" not in message


def test_start_up_fails_clearly_when_the_broker_is_unreachable(env, restore_celery_default):
    # CELERY_BROKER_URL rather than REDIS_URL, so only the broker is dead.
    env.setenv("CELERY_BROKER_URL", "redis://:s3cret-pw@127.0.0.1:1/0")
    env.setenv("CAPITAL_CHECK_SERVICES_AT_START", "true")
    with pytest.raises(ConfigError) as refused:
        create_app()
    message = str(refused.value)
    assert "CELERY_BROKER_URL" in message
    assert "127.0.0.1:1" in message
    assert "s3cret-pw" not in message


def test_without_a_broker_tasks_run_in_process(env, restore_celery_default):
    app = create_app()
    assert app.extensions["celery"].conf.task_always_eager is True
    assert app.config["CELERY"]["broker_url"] == "memory://"


@pytest.mark.redis
def test_with_a_broker_tasks_go_to_the_worker(env, restore_celery_default):
    env.setenv("CELERY_BROKER_URL", TEST_REDIS_URL)
    app = create_app()  # the start-up check reaches the real redis
    celery = app.extensions["celery"]
    assert celery.conf.task_always_eager is False
    assert celery.conf.broker_url == TEST_REDIS_URL


def test_redis_url_alone_serves_as_broker(env):
    env.setenv("REDIS_URL", TEST_REDIS_URL)
    config = Config()
    assert config.CELERY_BROKER_URL == TEST_REDIS_URL
    assert config.CELERY["task_always_eager"] is False


def test_celery_is_safe_by_default_json_only_and_tasks_end_before_redis_hands_them_out_again(env):
    celery = Config().CELERY
    assert celery["task_acks_late"] and celery["task_reject_on_worker_lost"]
    assert celery["task_serializer"] == "json" and celery["accept_content"] == ["json"]
    assert celery["task_soft_time_limit"] < celery["task_time_limit"] < \
        celery["broker_transport_options"]["visibility_timeout"]
    assert celery["worker_prefetch_multiplier"] == 1


def test_a_task_time_limit_not_below_the_visibility_timeout_is_refused(env):
    env.setenv("CAPITAL_BROKER_VISIBILITY_SECONDS", "600")
    env.setenv("CAPITAL_TASK_TIME_LIMIT_SECONDS", "600")
    with pytest.raises(ConfigError, match="CAPITAL_TASK_TIME_LIMIT_SECONDS"):
        Config()
