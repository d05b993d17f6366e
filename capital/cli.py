"""The `flask --app wsgi capital …` command group."""

from __future__ import annotations

import subprocess
import sys

import click
from flask import current_app
from flask.cli import AppGroup
from werkzeug.serving import run_simple

from capital.config import ROOT
from capital.domain.localisation import LOCALES

capital_cli = AppGroup("capital", help="Capital administration: demo data, translations.")


@capital_cli.command("demo")
def demo_command():
    """Create the demo data set (idempotent) and print how to sign in."""
    from capital.models.types import utcnow
    from capital.services.demo import load_demo
    from capital.services.dispatch import commit

    summary = load_demo(utcnow())
    commit()
    click.echo(f"Demo data ready: member cities, the 2019 archive, and the {summary['year']} cycle.")
    click.echo("Sign in with (e-mail / password):")
    for role, email, password in summary["credentials"]:
        click.echo(f"  {role.name.lower():<15} {email:<34} {password}")
    click.echo(f"Mail is written to {current_app.config['MAIL_OUTBOX_DIR']}")


@capital_cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve_command(host: str, port: int):
    """Serve the app on one machine; without a broker, also run the periodic tick in-process."""
    app = current_app._get_current_object()
    if app.config["CELERY"]["task_always_eager"]:
        interval = app.config["CELERY"]["beat_schedule"]["tick"]["schedule"].total_seconds()
        _start_inprocess_tick(app, interval)
        click.echo(f"No broker configured: the deadline tick runs in this process every {interval:.0f} s.")
    click.echo(f"Capital is at http://{host}:{port}/")
    # app.run() refuses to block inside the flask CLI; this is what it would call.
    run_simple(host, port, app, threaded=True, use_reloader=False)


def _start_inprocess_tick(app, interval: float) -> None:
    """What celery beat does in production, for the embedded set-up: a daemon thread."""
    import logging
    import threading

    from capital.tasks.deadlines import tick

    stop = threading.Event()

    def loop():
        while not stop.wait(interval):
            try:
                with app.app_context():
                    tick.apply()
            except Exception:  # keep ticking: the next run retries whatever failed
                logging.getLogger(__name__).exception("in-process tick failed")

    with app.app_context():
        tick.apply()  # once at start, so /healthz shows a tick straight away
    threading.Thread(target=loop, name="capital-tick", daemon=True).start()


@capital_cli.group("translations")
def translations():
    """Extract, update and compile the message catalogs."""


def _pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=ROOT)


@translations.command("update")
def translations_update():
    """Extract every marked string and merge it into each locale's catalog."""
    (ROOT / "translations").mkdir(exist_ok=True)
    _pybabel("extract", "-F", "babel.cfg", "-k", "_l", "-k", "N_", "--no-location", "--sort-output",
             "-o", "translations/messages.pot", ".")
    for locale in LOCALES:
        if not (ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po").exists():
            _pybabel("init", "-i", "translations/messages.pot", "-d", "translations", "-l", locale)
    _pybabel("update", "-i", "translations/messages.pot", "-d", "translations", "--no-fuzzy-matching",
             "--ignore-obsolete")


@translations.command("compile")
def translations_compile():
    """Compile the catalogs (the set-up command runs this)."""
    _pybabel("compile", "-d", "translations", "--statistics")


def init_app(app) -> None:
    app.cli.add_command(capital_cli)
