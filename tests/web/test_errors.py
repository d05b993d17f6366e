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
