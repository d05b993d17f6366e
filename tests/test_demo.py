"""The embedded default: SQLite, in-process tasks and a mail folder, with the demo data."""

import re

import pyotp
from sqlalchemy import func, select

from capital.domain.phase import Phase
from capital.models import City, Cycle, RoleGrant, User
from capital.services.demo import DEMO_PASSWORD
from tests.conftest import WebClient


def test_demo_on_sqlite_is_idempotent_and_usable(sqlite_app):
    app = sqlite_app
    assert app.config["CELERY"]["task_always_eager"]
    runner = app.test_cli_runner()
    first = runner.invoke(args=["capital", "demo"])
    assert first.exit_code == 0, first.output
    assert "secretariat@capital.example" in first.output and DEMO_PASSWORD in first.output
    # The secretariat's second factor: the key for an authenticator app, the same at every run.
    key = re.search(r"secretariat@capital\.example\s+key ([A-Z2-7]{32})", first.output).group(1)
    second = runner.invoke(args=["capital", "demo"])
    assert second.exit_code == 0, second.output
    assert f"key {key}" in second.output

    with app.app_context():
        from capital.extensions import db

        names = set(db.session.scalars(select(City.name)))
        assert {"Düsseldorf", "Montréal", "Córdoba", "New York", "Palermo", "Venlo"} <= names
        assert db.session.scalar(select(func.count(User.id))) == 3
        assert db.session.scalar(select(func.count(RoleGrant.id))) == 3
        archive = db.session.scalar(select(Cycle).where(Cycle.year == 2019))
        assert archive.phase == Phase.ANNOUNCED and archive.capital_city.name == "Córdoba"
        current = db.session.scalar(select(Cycle).where(Cycle.year != 2019))
        assert current.phase == Phase.NOMINATIONS_OPEN
        assert current.celebration_date.month == 5 and current.celebration_date.day == 16
        assert current.nominations_close_dt > current.nominations_open_dt

    browser = WebClient(app.test_client())
    home = browser.get("/").get_data(as_text=True)
    assert "Córdoba" in home
    response = browser.post("/account/login", {"email": "secretariat@capital.example", "password": DEMO_PASSWORD})
    assert response.headers["Location"] == "/account/two-factor"  # as a person with the key in their app:
    assert browser.post("/account/two-factor", {"code": pyotp.TOTP(key).now()}).status_code == 302
    assert "Düsseldorf" in browser.get("/secretariat/cities").get_data(as_text=True)
    # Mail is written to the outbox folder, in-process.
    browser.post("/secretariat/invitations", {"email": "new@city.example", "role": 2, "city_id": 0, "locale": "en"})
    assert len(list(app.config["MAIL_OUTBOX_DIR"].glob("*.eml"))) == 1
    health = browser.get("/healthz")
    assert health.status_code == 200 and health.json["database"]["backend"] == "sqlite"


def test_the_readme_demo_commands_bring_the_app_up(tmp_path):
    """`make demo`'s steps, as processes: migrate, load the demo, serve; the tick runs in-process."""
    import json
    import os
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    from tests.conftest import free_port

    root = Path(__file__).resolve().parents[1]
    flask = [str(Path(sys.executable).with_name("flask")), "--app", "wsgi"]
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DATABASE_URL", "REDIS_URL", "CELERY_", "MAIL_", "CAPITAL_"))}
    env.update(CAPITAL_INSTANCE_PATH=str(tmp_path), CAPITAL_TICK_SECONDS="1")
    for args in (["db", "upgrade"], ["capital", "demo"]):
        subprocess.run(flask + args, cwd=root, env=env, check=True, capture_output=True, timeout=120)
    port = free_port()
    server = subprocess.Popen(flask + ["capital", "serve", "--port", str(port)], cwd=root, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        health = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    health = json.load(response)
                if health["tick"]["runs"] >= 2:
                    break
            except OSError:
                pass
            time.sleep(0.3)
        assert health is not None, "the demo server did not answer"
        assert health["status"] == "ok" and health["database"]["backend"] == "sqlite"
        assert health["broker"]["mode"] == "in-process"
        assert health["tick"]["runs"] >= 2 and health["tick"]["is_late"] is False
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            assert "Córdoba" in response.read().decode()
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()
    assert (tmp_path / "capital.db").exists()
