"""Every protected page checks the role on the server."""

import pytest

from capital.domain.roles import Role

PAGES = {
    "/secretariat/": Role.SECRETARIAT,
    "/secretariat/cities": Role.SECRETARIAT,
    "/secretariat/people": Role.SECRETARIAT,
    "/secretariat/cycles": Role.SECRETARIAT,
    "/secretariat/invitations": Role.SECRETARIAT,
    "/secretariat/mail": {Role.SECRETARIAT, Role.OBSERVER},
    "/secretariat/audit": {Role.SECRETARIAT, Role.OBSERVER},
    "/board/": Role.BOARD,
    "/city/": Role.REPRESENTATIVE,
}
# Every signed-in person's own pages, whatever their role: their settings and sign-in security.
OWN_PAGES = ["/account/settings", "/account/security", "/account/security/app", "/account/security/passkeys/new"]


@pytest.mark.parametrize("url", sorted(PAGES) + OWN_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/account/login" in response.headers["Location"]


@pytest.mark.parametrize("url,needed", sorted(PAGES.items()))
@pytest.mark.parametrize("role", list(Role))
def test_each_page_admits_only_its_role(client, make_user, make_city, url, needed, role):
    user = make_user(role, city=make_city() if role == Role.REPRESENTATIVE else None)
    client.login(user.email)
    expected = 200 if role in (needed if isinstance(needed, set) else {needed}) else 403
    assert client.get(url).status_code == expected


@pytest.mark.parametrize("role", list(Role))
def test_each_person_reaches_their_own_pages_whatever_their_role(client, make_user, make_city, role):
    user = make_user(role, city=make_city() if role == Role.REPRESENTATIVE else None)
    client.login(user.email)
    assert [client.get(url).status_code for url in OWN_PAGES] == [200] * len(OWN_PAGES)


def test_a_second_factor_reset_is_refused_to_other_roles_and_a_passkey_to_other_people(client, make_user, db):
    from capital.models import Passkey
    from capital.services import factors

    target = make_user(Role.SECRETARIAT)
    other = make_user(Role.BOARD)
    db.session.add(Passkey(user_id=target.id, credential_id=b"id", public_key=b"key", name="Key"))
    db.session.commit()
    passkey = db.session.scalar(db.select(Passkey))
    client.login(other.email)
    assert client.post(f"/secretariat/people/{target.id}/second-factor/reset").status_code == 403
    assert client.get(f"/account/security/passkeys/{passkey.id}").status_code == 404
    assert client.post(f"/account/security/passkeys/{passkey.id}/remove").status_code == 404
    assert factors.summary(db.session.get(type(target), target.id)).passkeys == 1


def test_a_secretariat_post_is_refused_to_other_roles(client, make_user, db):
    from capital.models import Invitation

    board = make_user(Role.BOARD)
    client.login(board.email)
    response = client.post("/secretariat/invitations", {
        "email": "x@city.example", "role": int(Role.SECRETARIAT), "city_id": 0, "locale": "en"})
    assert response.status_code == 403
    assert db.session.query(Invitation).count() == 0


def test_a_person_with_two_roles_chooses_where_to_go(client, make_user, make_city):
    user = make_user(Role.BOARD, Role.REPRESENTATIVE, city=make_city("Palermo", country="IT"))
    client.login(user.email)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "/board/" in page and "/city/" in page
    assert client.get("/board/").status_code == 200
    assert client.get("/city/").status_code == 200


def test_dashboards_show_what_each_role_has(client, make_user, make_city, db):
    city = make_city("Córdoba", country="ES", timezone="Europe/Madrid")
    rep = make_user(Role.REPRESENTATIVE, city=city)
    client.login(rep.email)
    page = client.get("/city/").get_data(as_text=True)
    assert "Córdoba" in page and "Spain (Madrid) Time" in page and "Mayor of Córdoba" in page and "Spain" in page
    client.post("/account/logout")

    board = make_user(Role.BOARD)
    client.login(board.email)
    term = board.board_terms[0]
    page = client.get("/board/").get_data(as_text=True)
    assert "Your term runs from" in page and str(term.ends_on.year) in page


def test_security_headers_are_on_every_page(client):
    response = client.get("/")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
