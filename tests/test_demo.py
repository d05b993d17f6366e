"""The embedded default: SQLite, in-process tasks and a mail folder, with the demo data."""

from sqlalchemy import func, select

from capital.domain.phases import Phase
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
    second = runner.invoke(args=["capital", "demo"])
    assert second.exit_code == 0, second.output

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
    browser.login("secretariat@capital.example", DEMO_PASSWORD)
    assert "Düsseldorf" in browser.get("/secretariat/cities").get_data(as_text=True)
    # Mail is written to the outbox folder, in-process.
    browser.post("/secretariat/invitations", {"email": "new@city.example", "role": 2, "city_id": 0, "locale": "en"})
    assert len(list(app.config["MAIL_OUTBOX_DIR"].glob("*.eml"))) == 1
    health = browser.get("/healthz")
    assert health.status_code == 200 and health.json["database"]["backend"] == "sqlite"
