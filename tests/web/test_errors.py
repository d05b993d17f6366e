"""Error pages: one table, the reader's language, and no false promise after a crash."""

import pytest

from tests.conftest import WebClient, dispose, make_config


@pytest.fixture
def crashing_app(tmp_path, _catalogs):
    from capital import create_app

    config = make_config(tmp_path, PROPAGATE_EXCEPTIONS=False)
    app = create_app(config)

    @app.route("/crash")
    def crash():
        raise RuntimeError("a bug")

    yield app
    dispose(app)


def test_a_crash_shows_a_500_page_that_does_not_claim_nothing_was_lost(crashing_app):
    client = WebClient(crashing_app.test_client())
    response = client.get("/crash")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in page
    assert "check whether your change was saved" in page
    assert "lost" not in page
    french = client.get("/crash", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "vérifiez si votre modification a été enregistrée" in french


def test_a_failing_statement_never_carries_its_parameters_into_errors_or_logs(crashing_app, caplog):
    """A parameter may be a ballot or a receipt code: the 500 log line must not show it."""
    import secrets

    from sqlalchemy import text

    from capital.extensions import db

    receipt = secrets.token_hex(8)  # made here, so that the traceback's source lines cannot show it

    @crashing_app.route("/crash-in-sql")
    def crash_in_sql():
        db.session.execute(text("SELECT 1 / 0 WHERE :receipt <> ''"), {"receipt": receipt})

    response = WebClient(crashing_app.test_client()).get("/crash-in-sql")
    assert response.status_code == 500
    assert "division by zero" in caplog.text and "parameters hidden" in caplog.text
    assert receipt not in caplog.text


@pytest.mark.parametrize(("url", "status", "title"), [
    ("/no/such/page", 404, "Page not found"),
    ("/healthz/nothing", 404, "Page not found"),
])
def test_each_status_has_its_page_and_json_for_machines(client, url, status, title):
    response = client.get(url)
    assert response.status_code == status
    if url.startswith("/healthz"):
        assert response.get_json() == {"error": title, "message": "There is no page at this address."}
    else:
        assert f"<h1>{title}</h1>" in response.get_data(as_text=True)
