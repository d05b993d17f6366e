"""Capital: nomination and vote for the Capital of Living Together."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

# `capital.voting` and `capital.domain` are used without the web stack, and
# importing them runs this module first: it must not import Flask, SQLAlchemy
# or Celery (``capital.config`` imports SQLAlchemy), so those are reached lazily.
if TYPE_CHECKING:
    from flask import Flask

    from capital.config import Config, ConfigError

__all__ = ["ConfigError", "create_app"]


def __getattr__(name: str) -> Any:
    """``capital.ConfigError``, imported from :mod:`capital.config` on first use."""
    if name == "ConfigError":
        from capital.config import ConfigError

        return ConfigError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def create_app(config: Config | None = None) -> "Flask":
    """Build the web application from ``config`` (by default, from the environment)."""
    from flask import Flask

    from capital import cli, i18n, inputs, security, throttle
    from capital.auth import sessions
    from capital.celery_app import celery_init_app
    from capital.config import ROOT, Config
    from capital.extensions import compress, csrf, db, end_session, login_manager, migrate
    from capital.models.types import render_item

    config = config if config is not None else Config()
    app = Flask(__name__, instance_path=str(config.INSTANCE_PATH), instance_relative_config=False)
    app.config.from_object(config)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # The client's address is the one the trusted proxies forwarded, not the last proxy's.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"],
                                x_proto=app.config["TRUSTED_PROXIES"])
    config.INSTANCE_PATH.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    db.init_app(app)
    app.teardown_appcontext(end_session)  # runs before Flask-SQLAlchemy's own close
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True,
                     render_item=render_item)
    csrf.init_app(app)
    login_manager.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    sessions.init_app(app)
    throttle.init_app(app)
    inputs.init_app(app)  # before the blueprints: their rules use its bounded int converter
    celery_init_app(app)
    _register_blueprints(app)
    compress.init_app(app)  # compresses text answers after the view (the other hooks only add headers)
    cli.init_app(app)

    if app.config["CHECK_SERVICES_AT_START"]:
        from capital.services.health import check_services_or_fail

        check_services_or_fail(app)
    return app


def _register_blueprints(app: "Flask") -> None:
    from capital import models  # noqa: F401  (every table known before first use)
    from capital.api import bp as api_bp
    from capital.assessment import bp as assessment_bp
    from capital.auth import bp as auth_bp
    from capital.board import bp as board_bp
    from capital.errors import bp as errors_bp
    from capital.nominations import bp as nominations_bp
    from capital.public import bp as public_bp
    from capital.review import bp as review_bp
    from capital.secretariat import bp as secretariat_bp

    app.register_blueprint(errors_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(auth_bp, url_prefix="/account")
    app.register_blueprint(secretariat_bp, url_prefix="/secretariat")
    app.register_blueprint(board_bp, url_prefix="/board")
    app.register_blueprint(nominations_bp, url_prefix="/city")
    app.register_blueprint(review_bp, url_prefix="/review")
    app.register_blueprint(assessment_bp, url_prefix="/assessment")
    # Pages shared by several roles show each role its own links: current_user.has_role(roles.X).
    from capital.domain.roles import Role

    app.jinja_env.globals["roles"] = Role
