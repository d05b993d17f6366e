"""The first administrator comes from `capital create-admin`; the demo data set is refused in production."""

import os
import sys
from pathlib import Path

from sqlalchemy import func, select

from capital.domain.roles import Role
from capital.models import User
from tests.conftest import TEST_DATABASE_URL, WebClient, dispose, make_config

ROOT = Path(__file__).resolve().parents[1]


def test_create_admin_reads_the_password_from_stdin_and_the_account_signs_in(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["capital", "create-admin", "Chief@Capital.example", "--name", "Chief"],
                           input="a long admin password\n")
    assert result.exit_code == 0, result.output
    assert "a long admin password" not in result.output
    user = db.session.scalar(select(User).where(User.email == "chief@capital.example"))
    assert user.name == "Chief" and user.roles == {Role.SECRETARIAT}
    browser = WebClient(app.test_client())
    browser.login("chief@capital.example", "a long admin password")
    assert browser.get("/secretariat/").status_code == 200


def test_create_admin_refuses_a_weak_password_an_existing_address_and_a_non_address(app, db, make_user):
    runner = app.test_cli_runner()
    weak = runner.invoke(args=["capital", "create-admin", "a@capital.example"], input="short\n")
    assert weak.exit_code != 0 and "at least 10 characters" in weak.output
    existing = make_user(Role.BOARD)
    taken = runner.invoke(args=["capital", "create-admin", existing.email], input="a long admin password\n")
    assert taken.exit_code != 0 and "already exists" in taken.output
    nonsense = runner.invoke(args=["capital", "create-admin", "not-an-address"], input="a long admin password\n")
    assert nonsense.exit_code != 0 and "not an e-mail address" in nonsense.output
    assert db.session.scalar(select(func.count(User.id))) == 1
    assert existing.roles == {Role.BOARD}


def test_create_admin_asks_twice_at_a_terminal(tmp_path, app):
    """Typed at a prompt (a real terminal), the password is asked twice and not echoed."""
    import pty

    env = {**os.environ, "DATABASE_URL": TEST_DATABASE_URL, "CAPITAL_INSTANCE_PATH": str(tmp_path),
           "CAPITAL_CHECK_SERVICES_AT_START": "false"}
    env.pop("REDIS_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    flask = str(Path(sys.executable).with_name("flask"))
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(ROOT)
        os.execve(flask, [flask, "--app", "wsgi", "capital", "create-admin", "tty@capital.example"], env)
    output = b""

    def read_until(marker: bytes):
        nonlocal output
        while marker not in output:
            output += os.read(fd, 1024)

    read_until(b"Password: ")
    os.write(fd, b"typed at the terminal\n")
    read_until(b"Repeat for confirmation: ")
    os.write(fd, b"typed at the terminal\n")
    read_until(b"created")
    os.waitpid(pid, 0)
    os.close(fd)
    assert b"typed at the terminal" not in output
    from capital.extensions import db

    assert db.session.scalar(select(User).where(User.email == "tty@capital.example")).roles == {Role.SECRETARIAT}


def test_the_demo_is_refused_in_production(tmp_path, session_app):
    from capital import create_app
    from capital.extensions import db

    app = create_app(make_config(tmp_path, PRODUCTION=True, SECRET_KEY="x" * 40))
    try:
        result = app.test_cli_runner().invoke(args=["capital", "demo"])
        assert result.exit_code != 0, result.output
        assert "production" in result.output and "create-admin" in result.output
        assert "living-together-16-may" not in result.output
        with app.app_context():
            assert db.session.scalar(select(User).where(User.email == "secretariat@capital.example")) is None
    finally:
        dispose(app)
