"""The `flask --app wsgi capital …` command group."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from werkzeug.serving import run_simple

from capital.config import ROOT
from capital.domain.localisation import LOCALES

capital_cli = AppGroup("capital", help="Capital administration: demo data, translations.")


@capital_cli.command("demo")
@click.option("--through", type=click.Choice(["nominations", "assessed", "shortlist-voting", "shortlisted", "voting",
                                              "tallied", "announced"]),
              help="Also take the demo cycle this far through the real services: cities submit nominations, "
                   "the secretariat finds them eligible, seven board members and an invited expert assess them, "
                   "seven board members approve a shortlist of three, its count and publication, seven board "
                   "members vote among the finalists, the count, the announcement.")
def demo_command(through: str | None):
    """Create the demo data set (idempotent) and print how to sign in."""
    if current_app.config["PRODUCTION"]:
        # The demo accounts' password is published in the README.
        raise click.ClickException("The demo data set is refused with CAPITAL_ENV=production: its accounts have "
                                   "a published password. Create the first account with `capital create-admin`.")
    from capital.models.types import utcnow
    from capital.services.demo import load_demo, run_demo_vote
    from capital.services.dispatch import commit

    now = utcnow()
    summary = load_demo(now) if through is None else run_demo_vote(through, now)
    commit()
    click.echo(f"Demo data ready: member cities, the 2019 archive, and the {summary['year']} cycle.")
    if through is not None:
        click.echo(f"The {summary['year']} cycle is now: {summary['phase'].title}.")
    click.echo("Sign in with (e-mail / password):")
    for role, email, password in summary["credentials"]:
        click.echo(f"  {role.name.lower():<15} {email:<34} {password}")
    if summary["app_keys"]:
        click.echo("The secretariat signs in with a second factor too: add its key to an authenticator app "
                   "(time-based, 6 digits), or print the current code with the command below it.")
        for email, key in summary["app_keys"]:
            click.echo(f"  {email:<34} key {key}")
            click.echo(f"    .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('{key}').now())\"")
    click.echo(f"Mail is written to {current_app.config['MAIL_OUTBOX_DIR']}")


@capital_cli.command("audit-bundle")
@click.argument("year", type=int)
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def audit_bundle_command(year: int, directory: Path):
    """Write the announced vote of YEAR to DIRECTORY: ballots.txt, tally.json, the record of the
    designation in every language (record-LANG.pdf) and SHA256SUMS of them all."""
    from sqlalchemy import select

    from capital.extensions import db
    from capital.models import Cycle
    from capital.models.types import utcnow
    from capital.public.record import record_files
    from capital.services.voting import audit_files, checksums

    cycle = db.session.scalar(select(Cycle).where(Cycle.year == year))
    if cycle is None:
        raise click.ClickException(f"there is no cycle for {year}")
    now = utcnow()
    files = audit_files(cycle, now)
    if not files:
        raise click.ClickException(f"the {year} vote is not announced: its audit bundle is not public yet")
    files.pop("SHA256SUMS")
    files.update(record_files(cycle, now))
    files["SHA256SUMS"] = checksums(files)
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (directory / name).write_bytes(content)
    click.echo(f"Wrote {', '.join(files)} to {directory}; check with: cd {directory} && sha256sum -c SHA256SUMS")


@capital_cli.group("audit")
def audit():
    """The audit log."""


@audit.command("verify")
def audit_verify_command():
    """Check the audit log's hash chain; report the first broken link and exit 1, or exit 0."""
    from capital.domain.audit_chain import Break
    from capital.services.audit import verify_chain

    result = verify_chain()
    if isinstance(result, Break):
        click.echo(f"audit log broken at entry id {result.entry_id} (sequence number {result.seq}): "
                   f"{result.problem}", err=True)
        raise SystemExit(1)
    click.echo(f"audit log intact: {result.entries} entries; head: sequence number {result.head_seq}, "
               f"hash {result.head_hash}")


@capital_cli.command("create-admin")
@click.argument("email")
@click.option("--name", default="", help="The person's name (default: the e-mail address).")
def create_admin_command(email: str, name: str):
    """Create a secretariat account; the password is typed at a prompt, or read from stdin if it is not a terminal."""
    from email_validator import EmailNotValidError, validate_email

    from capital.models.types import utcnow
    from capital.services.accounts import AccountError, create_admin
    from capital.services.dispatch import commit

    try:
        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise click.ClickException(f"{email!r} is not an e-mail address: {error}") from None
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = create_admin(email, password, name=name, now=utcnow())
    except AccountError as error:
        raise click.ClickException(error.reason.message % dict(error.reason.params)) from None
    commit()
    click.echo(f"Secretariat account created for {user.email}. Sign in at {current_app.config['BASE_URL']}/account/login "
               "and set up its second factor (an authenticator app or a passkey) there.")


@capital_cli.command("reset-second-factor")
@click.argument("email")
def reset_second_factor_command(email: str):
    """Forget every second factor of EMAIL (for when no other member of the secretariat can): audited, mailed."""
    from capital.models import User
    from capital.models.types import utcnow
    from capital.services.dispatch import commit
    from capital.services.factors import FactorError, reset_second_factor

    user = User.by_email(email)
    if user is None:
        raise click.ClickException(f"No account has the address {email!r}.")
    try:
        reset_second_factor(user, actor="cli", now=utcnow())
    except FactorError as error:
        raise click.ClickException(error.reason.message % dict(error.reason.params)) from None
    commit()
    click.echo(f"The second factor of {user.email} is reset; they set up a new one at their next sign-in.")


@capital_cli.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def export_command(file: Path):
    """Write every table's rows and every uploaded file to the archive FILE (.tar.gz)."""
    from capital.services.backup import export_backup

    summary = export_backup(file, current_app.config["UPLOAD_DIR"])
    click.echo(f"Wrote {sum(summary.rows.values())} rows of {len(summary.rows)} tables and {summary.files} "
               f"uploaded files to {file}")


@capital_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(file: Path):
    """Restore the archive FILE (from `capital export`) into an empty, migrated database."""
    from capital.services.backup import BackupRefused, import_backup

    try:
        summary = import_backup(file, current_app.config["UPLOAD_DIR"])
    except BackupRefused as refusal:
        raise click.ClickException(f"import refused, nothing changed: {refusal}") from None
    click.echo(f"Restored {sum(summary.rows.values())} rows of {len(summary.rows)} tables and {summary.files} "
               f"uploaded files from {file}")


def _onboard(kind: str, file: Path, dry_run: bool, language: str) -> None:
    """Import (or check) a cities' or people's CSV file; one line per refused input line; exit 2 if any."""
    from flask_babel import force_locale

    from capital.models.types import utcnow
    from capital.services.dispatch import commit
    from capital.services.onboarding import problem_text, run_import

    report = run_import(kind, file.read_bytes(), dry_run=dry_run, actor="cli", now=utcnow())
    if not dry_run:
        commit()
    with force_locale(language):
        for problem in report.file_problems:
            click.echo(problem_text(problem), err=True)
        for line in report.refused:
            for problem in line.problems:
                click.echo(problem_text(problem), err=True)
    counts = ", ".join(f"{count} {outcome}" for outcome, count in report.counts().items() if count)
    click.echo(f"{'Dry run, nothing stored' if dry_run else 'Imported'}: {counts or 'no lines'}.")
    if not report.ok:
        sys.exit(2)


_LANGUAGE = click.option("--language", type=click.Choice(LOCALES), default="en", show_default=True,
                         help="The language the refused lines are explained in.")


@capital_cli.command("import-cities")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every line and say what it would do; store nothing.")
@_LANGUAGE
def import_cities_command(file: Path, dry_run: bool, language: str):
    """Create or update the member cities of the CSV FILE (docs/roles.md); exit 2 if a line is refused."""
    _onboard("cities", file, dry_run, language)


@capital_cli.command("import-people")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every line and say what it would do; invite nobody.")
@_LANGUAGE
def import_people_command(file: Path, dry_run: bool, language: str):
    """Invite the people of the CSV FILE with their role and city (docs/roles.md); exit 2 if a line is refused."""
    _onboard("people", file, dry_run, language)


@capital_cli.command("export-exhibition")
@click.argument("year", type=int)
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export_exhibition_command(year: int, directory: Path):
    """Write YEAR's announcement as a static bundle in every language into DIRECTORY."""
    from capital.models.types import utcnow
    from capital.public.exhibition import ExportRefused, export_exhibition

    try:
        written = export_exhibition(year, directory, now=utcnow())
    except ExportRefused as refusal:
        raise click.ClickException(str(refusal)) from None
    click.echo(f"Wrote {len(written)} files to {directory}; open {directory / 'index.html'}.")


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


@capital_cli.command("outbox")
@click.option("--retry", "retry_id", type=int, help="Queue this failed mail again.")
@click.option("--retry-all", is_flag=True, help="Queue every failed mail again.")
@click.option("--limit", default=50, show_default=True, help="Rows listed per state.")
def outbox_command(retry_id: int | None, retry_all: bool, limit: int):
    """List the pending and failed mail, or queue failed mail again."""
    from sqlalchemy import select

    from capital.extensions import db
    from capital.models import Mail, MailState
    from capital.models.types import utcnow
    from capital.services.dispatch import commit
    from capital.services.health import outbox_status
    from capital.services.mail import retry_failed_mail

    now = utcnow()
    if retry_id is not None or retry_all:
        count = retry_failed_mail(None if retry_all else retry_id, actor="cli", now=now)
        commit()
        if retry_id is not None and not count:
            raise click.ClickException(f"no failed mail with id {retry_id}")
        click.echo(f"{count} failed mail(s) queued again.")
        return
    status = outbox_status(now)
    said = {"exact": "", "at_least": "more than ", "about": "about "}
    counts = {name: f"{said[kind]}{status[name]}" for name, kind in status["counts"].items()}
    click.echo(f"pending: {counts['queued']}  failed: {counts['failed']}  sent: {counts['sent']}  "
               f"oldest pending: {status['oldest_queued_age_seconds']} s")
    for title, states in (("Pending", (MailState.QUEUED, MailState.SENDING)), ("Failed", (MailState.FAILED,))):
        # Oldest first, along the partial index of those states (not a walk of the whole outbox).
        rows = db.session.scalars(select(Mail).where(Mail.state.in_(states))
                                  .order_by(Mail.created_dt, Mail.id).limit(limit)).all()
        click.echo(f"{title}:")
        for mail in rows:
            click.echo(f"  {mail.id:>8}  {mail.state.name:<7} {mail.attempts:>2} tries  "
                       f"next {mail.next_attempt_dt:%Y-%m-%d %H:%M} UTC  {mail.kind:<22} {mail.recipient}  "
                       f"{mail.last_error[:80]}")


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
