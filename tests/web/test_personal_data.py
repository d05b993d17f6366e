"""Personal data: each person downloads what Capital holds on them; the secretariat erases a person who
holds no role, everywhere, and the audit chain still verifies."""

from __future__ import annotations

import json
import re
import time

from sqlalchemy import select

from capital.domain.audit_chain import Summary
from capital.domain.roles import Role
from capital.models import ImportJob, Invitation, Mail, MailState, Passkey, RecoveryCode, Subscriber, User
from capital.models.types import utcnow
from capital.services.accounts import hash_password
from capital.services.audit import verify_chain
from tests.conftest import add_authenticator_app
from tests.web.test_observer import _snapshot

LINK = re.compile(r"(http://[^\s\"<]+/account/invitation/[^\s\"<]+)")
NAME, EMAIL = "Zeynep O'Brien-Özdemir", "zeynep@city.example"


def test_a_person_downloads_what_capital_holds_on_them_and_never_a_secret(client, db, make_user):
    person = make_user(Role.BOARD, name=NAME, email=EMAIL)
    secret = add_authenticator_app(person)
    db.session.add(Passkey(user_id=person.id, credential_id=b"credential-id-bytes", public_key=b"public-key-bytes",
                           name="Zeynep's key", transports=["usb"]))
    code_hash = hash_password("abcd-efgh")
    db.session.add(RecoveryCode(user_id=person.id, code_hash=code_hash))
    db.session.add(Mail(dedupe_key="-:test:z", kind="test", recipient=EMAIL, locale="en", subject="Your term",
                        body_text="Dear Zeynep, your term starts.", body_html="<p>Dear Zeynep</p>", message_id="<z@c>",
                        state=MailState.SENT, next_attempt_dt=utcnow()))
    db.session.add(Mail(dedupe_key="-:test:other", kind="test", recipient="other@city.example", locale="en",
                        subject="Not yours", body_text="Someone else's mail", body_html="", message_id="<o@c>"))
    db.session.commit()
    secretariat = make_user(Role.SECRETARIAT)
    client.login(secretariat.email)
    client.post(f"/secretariat/people/{person.id}/roles", {"role": int(Role.REPRESENTATIVE)})
    client.post("/account/logout")

    client.login(EMAIL)
    assert 'href="/account/my-data.json"' in client.get("/account/settings").get_data(as_text=True)
    response = client.get("/account/my-data.json")
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    data = json.loads(body)
    assert data["account"]["name"] == NAME and data["account"]["email"] == EMAIL
    assert {role["role"] for role in data["roles"]} == {"board", "representative"}
    assert data["second_factor"]["authenticator_app"]["set_up"]
    assert [key["name"] for key in data["second_factor"]["passkeys"]] == ["Zeynep's key"]
    assert len(data["second_factor"]["recovery_codes"]) == 1
    assert [mail["text"] for mail in data["mail"]] == ["Dear Zeynep, your term starts."]
    granted = [entry for entry in data["audit_log"] if entry["action"] == "role.granted"]
    assert granted and not granted[0]["by_this_person"] and granted[0]["data"] == {"role": "REPRESENTATIVE"}
    for never in (secret, person.totp_factor.secret_encrypted, code_hash, "credential-id", "Someone else"):
        assert never not in body


def test_downloading_ones_data_asks_for_the_password_again_after_a_while(client, make_user):
    person = make_user(Role.REPRESENTATIVE, email=EMAIL)
    client.login(EMAIL)
    with client.raw.session_transaction() as session:
        session["_auth_at"] = int(time.time()) - 3600
    response = client.get("/account/my-data.json")
    assert response.status_code == 302 and response.headers["Location"].startswith("/account/confirm-password")
    assert person.id


def _everything(db) -> str:
    return repr(_snapshot(db))


def test_the_secretariat_erases_a_person_who_holds_no_role_everywhere_and_the_chain_verifies(app, client, db,
                                                                                            make_user):
    secretariat = make_user(Role.SECRETARIAT)
    client.login(secretariat.email)
    client.post("/secretariat/invitations", {"email": EMAIL, "name": NAME, "role": int(Role.BOARD), "city_id": 0,
                                             "locale": "en"})
    client.post("/account/logout")
    invitation_mail = db.session.scalar(select(Mail).where(Mail.kind == "invitation"))
    assert "O&#39;Brien" in invitation_mail.body_html  # the name as the template escaped it
    link = LINK.search(invitation_mail.body_text).group(1).replace("http://127.0.0.1:5000", "")
    client.post(link, {"name": NAME, "password": "a long enough password", "confirm": "a long enough password"})
    client.post("/account/logout")
    db.session.add(Subscriber(email=EMAIL, locale="en"))
    # The person came in with an onboarding file, which the import keeps with its report.
    db.session.add(ImportJob(kind="people", filename="people.csv", state="done", is_dry_run=False,
                             data=f"email,name,role,city,language\n{EMAIL},{NAME},board,,en\n".encode(),
                             report={"lines": [{"line": 2, "outcome": "invited", "text": f"{NAME} <{EMAIL}>"}]}))
    db.session.commit()
    person = User.by_email(EMAIL)
    outbox = app.config["MAIL_OUTBOX_DIR"]
    assert any(EMAIL in path.read_text() for path in outbox.glob("*.eml"))
    assert NAME in _everything(db) and EMAIL in _everything(db)

    client.login(secretariat.email)
    page = client.get(f"/secretariat/people/{person.id}").get_data(as_text=True)
    assert "still holds a role. Take away every role first, then erase." in page
    refused = client.post(f"/secretariat/people/{person.id}/erase")
    assert "still holds a role" in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert User.by_email(EMAIL) is not None

    client.post(f"/secretariat/people/{person.id}/roles/{int(Role.BOARD)}/revoke")
    done = client.post(f"/secretariat/people/{person.id}/erase")
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    erased = db.session.get(User, person.id)
    pseudonym = erased.name
    assert pseudonym.startswith("Erased person ") and f"this person is now “{pseudonym}”" in page
    assert erased.email.endswith("@erased.invalid") and erased.password_hash is None

    everything = _everything(db)
    for trace in (NAME, "O&#39;Brien", "Zeynep", EMAIL, "zeynep@"):
        assert trace not in everything, trace
    for path in outbox.glob("*.eml"):
        assert "zeynep" not in path.read_text().lower(), path.name
    assert isinstance(verify_chain(), Summary)
    assert "Personal data erased" in client.get("/secretariat/audit").get_data(as_text=True)
    invitation = db.session.scalar(select(Invitation))
    assert invitation.email == erased.email and invitation.name == pseudonym
    assert "Erased on" in client.get(f"/secretariat/people/{person.id}").get_data(as_text=True)
    client.post("/account/logout")
    refused = client.post("/account/login", {"email": EMAIL, "password": "a long enough password"})
    assert refused.status_code != 302


def test_nobody_erases_themselves(client, db, make_user):
    secretariat = make_user(Role.SECRETARIAT)
    client.login(secretariat.email)
    db.session.execute(db.delete(type(secretariat.role_grants[0])))
    db.session.commit()
    client.post(f"/secretariat/people/{secretariat.id}/erase")
    assert db.session.get(User, secretariat.id).erased_dt is None


def test_a_group_mail_to_an_erased_person_greets_the_pseudonym(client, db, make_user):
    from capital.models import Mailing, MailingPart
    from capital.services.mail import NAME_MARK, mail_bodies
    from capital.services.personal_data import erase_person, personal_data

    person = make_user(Role.BOARD, name=NAME, email=EMAIL)
    mailing = Mailing(dedupe_key="2031:vote_opened:roll", kind="vote_opened", audience="roll")
    db.session.add(mailing)
    db.session.flush()
    part = MailingPart(mailing_id=mailing.id, locale="en", timezone="UTC", is_named=True, subject="Voting is open",
                       body_text=f"Dear {NAME_MARK}, vote now.", body_html=f"<p>Dear {NAME_MARK}</p>")
    db.session.add(part)
    db.session.flush()
    mail = Mail(dedupe_key=f"2031:vote_opened:{EMAIL}", kind="vote_opened", recipient=EMAIL, locale="en",
                subject="Voting is open", body_text="", body_html="", message_id="<g@c>", mailing_id=mailing.id,
                part_id=part.id, recipient_name=NAME, state=MailState.SENT, next_attempt_dt=utcnow())
    db.session.add(mail)
    db.session.commit()
    assert [m["text"] for m in personal_data(person)["mail"]] == [f"Dear {NAME}, vote now."]
    person.role_grants.clear()
    secretariat = make_user(Role.SECRETARIAT)
    pseudonym = erase_person(person, actor=secretariat, now=utcnow())
    db.session.commit()
    assert mail_bodies(db.session.get(Mail, mail.id)) == (f"Dear {pseudonym}, vote now.", f"<p>Dear {pseudonym}</p>")
    assert NAME not in _everything(db) and EMAIL not in _everything(db)
