"""A secretariat member adds a passkey in Chromium and signs in with it (the authenticator is software:
the DevTools virtual authenticator, through Playwright's CDP session); without JavaScript the same pages
keep the authenticator app's way and offer no passkey."""

import base64

import pytest
from flask import current_app
from sqlalchemy import select

from capital.domain.roles import Role
from capital.models import Passkey
from tests.browser.test_nomination_journey import sign_in
from tests.conftest import PASSWORD, second_factor_code


@pytest.fixture
def base(live_server, app, monkeypatch):
    """The live server as http://localhost:PORT (a passkey belongs to a domain, never to an IP address),
    which is also CAPITAL_BASE_URL: the passkeys' relying party."""
    address = live_server.replace("127.0.0.1", "localhost")
    monkeypatch.setitem(app.config, "BASE_URL", address)
    return address


def _software_authenticator(page):
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})
    return cdp, added["authenticatorId"]


def _password_only(page, base, email):
    page.goto(f"{base}/account/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url("**/account/two-factor")


def test_a_passkey_is_added_then_signs_in(base, new_page, make_user, db, screenshot):
    user = make_user(Role.SECRETARIAT, email="secretariat@capital.example")
    page = new_page("en")
    cdp, authenticator = _software_authenticator(page)
    sign_in(page, base, user.email)  # with the authenticator app's code
    page.goto(f"{base}/account/security")
    page.click("a[href='/account/security/passkeys/new']")
    page.fill("#name", "Laptop")
    screenshot(page, "1-add-a-passkey")
    page.click("#submit")  # the script asks the authenticator, then posts the form
    page.wait_for_url("**/account/security/recovery-codes")
    assert "Your recovery codes" in page.content()  # the first codes come with the first passkey
    page.click("a.button.primary")
    page.wait_for_url("**/account/security")
    assert page.locator("td[data-label='Passkey']", has_text="Laptop").count() == 1
    [created] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    [passkey] = db.session.scalars(select(Passkey)).all()
    assert passkey.credential_id == base64.b64decode(created["credentialId"]) and passkey.name == "Laptop"

    page.click("button.link-button")  # sign out
    page.wait_for_load_state()
    _password_only(page, base, user.email)
    screenshot(page, "2-second-step")
    page.click("button[data-passkey-button]")
    page.wait_for_url("**/secretariat/")
    db.session.expire_all()
    passkey = db.session.get(Passkey, passkey.id)
    assert passkey.last_used_dt is not None and passkey.last_challenge_ns is not None

    page.goto(f"{base}/account/security")
    page.click(f"a[href='/account/security/passkeys/{passkey.id}']")
    page.fill("#name", "Work laptop")
    page.click("#submit")
    page.wait_for_url("**/account/security")
    page.click(f"form[action='/account/security/passkeys/{passkey.id}/remove'] button")  # the app stays
    page.wait_for_url("**/account/security")
    assert "No passkey is registered." in page.content(), page.inner_text("main")
    assert db.session.scalars(select(Passkey)).all() == []


def test_a_forged_passkey_answer_is_refused_and_the_app_still_works(base, new_page, make_user, db):
    user = make_user(Role.SECRETARIAT)
    page = new_page("fr")
    cdp, authenticator = _software_authenticator(page)
    sign_in(page, base, user.email)
    page.goto(f"{base}/account/security/passkeys/new")
    page.fill("#name", "Clé")
    page.click("#submit")
    page.wait_for_url("**/account/security/recovery-codes")
    page.click("a.button.primary")
    page.click("button.link-button")  # sign out
    page.wait_for_load_state()
    # The authenticator now signs wrongly, as a forged or tampered answer would be.
    cdp.send("WebAuthn.setResponseOverrideBits", {"authenticatorId": authenticator, "isBogusSignature": True})
    _password_only(page, base, user.email)
    page.click("button[data-passkey-button]")
    page.wait_for_selector(".error-summary")
    assert "/account/two-factor" in page.url and "Try again" not in page.content()  # said in French
    page.fill("#code", second_factor_code(current_app._get_current_object(), user.email))
    page.click("#submit")
    page.wait_for_url("**/secretariat/")


def test_without_javascript_the_app_is_the_way_and_no_passkey_is_offered(base, browser, make_user, db):
    user = make_user(Role.SECRETARIAT)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        _password_only(page, base, user.email)
        assert page.locator("button[data-passkey-button]").count() == 0  # no passkey: nothing to offer
        page.fill("#code", second_factor_code(current_app._get_current_object(), user.email))
        page.click("#submit")
        page.wait_for_url("**/secretariat/")
        page.goto(f"{base}/account/security/passkeys/new")
        assert page.locator("[data-passkey-missing]").is_visible()
        assert not page.locator("#submit").is_visible()  # the button that needs the script stays hidden
    finally:
        context.close()
