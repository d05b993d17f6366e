"""The observer: invited like the others; reads the audit log, the roll and recusals, the mail log without
bodies and the result once counted; changes nothing, by any route."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.models import Invitation, Mail, MailState, Nomination, Recusal, Result, User, VotingRound
from capital.services.audit import record
from tests.public_data import make_counted_cycle

NOW = datetime(2031, 3, 10, 12, 0, tzinfo=UTC)
LINK = re.compile(r"(http://[^\s\"<]+/account/invitation/[^\s\"<]+)")
# What an observer reads.
READS = {"secretariat.audit_log", "secretariat.audit_chain", "secretariat.audit_export", "secretariat.mail",
         "board.roll", "board.results"}
# Their own account, and what anyone may do on the public site (subscribe, choose a language, look up a
# receipt, posted so that the code is in no log): not the vote.
OWN = {"static", "public.set_language", "public.subscribe", "public.confirm_subscription_page", "public.unsubscribe",
       "public.receipt_lookup"}


@pytest.fixture
def world(db, make_city, make_user):
    """A counted vote not yet announced, a roll with a recusal, a mail, a pending invitation."""
    cycle = make_counted_cycle(db, make_city, phase=Phase.TALLIED)
    bruno = make_user(Role.BOARD, name="Bruno Board")
    clara = make_user(Role.BOARD, name="Clara Conflicted")
    secretariat = make_user(Role.SECRETARIAT, name="Sofia Secretary")
    observer = make_user(Role.OBSERVER, name="Olga Observer")
    voting_round = db.session.scalar(select(VotingRound))
    voting_round.roll = [bruno.id]
    db.session.add(Recusal(cycle_id=cycle.id, user_id=clara.id, reason="My sister leads the Venlo bid."))
    db.session.add(Mail(dedupe_key="-:test:1", kind="test", recipient="mayor@palermo.example", locale="en",
                        subject="Your nomination", body_text="BODY-TEXT-MARKER", body_html="<p>BODY-HTML-MARKER</p>",
                        message_id="<1@capital>", state=MailState.SENT, next_attempt_dt=NOW, created_dt=NOW))
    db.session.add(Invitation(email="new@city.example", role=Role.BOARD, nonce="n", expires_dt=datetime(2099, 1, 1, tzinfo=UTC)))
    record("cycle.updated", cycle, actor=secretariat, now=NOW, cycle_id=cycle.id, data={"changes": {}})
    db.session.commit()
    return {"cycle": cycle, "observer": observer, "secretariat": secretariat, "bruno": bruno, "clara": clara}


def test_an_observer_is_invited_like_the_others_and_lands_on_the_audit_log(client, db, make_user):
    secretariat = make_user(Role.SECRETARIAT)
    client.login(secretariat.email)
    form = client.get("/secretariat/invitations").get_data(as_text=True)
    assert f'<option value="{int(Role.OBSERVER)}">Observer</option>' in form
    response = client.post("/secretariat/invitations", {"email": "olga@observers.example", "name": "Olga",
                                                        "role": int(Role.OBSERVER), "city_id": 0, "locale": "en"})
    assert response.status_code == 302, response.get_data(as_text=True)
    client.post("/account/logout")
    mail = db.session.scalar(select(Mail).where(Mail.kind == "invitation"))
    assert "Observer" in mail.body_text
    link = LINK.search(mail.body_text).group(1).replace("http://127.0.0.1:5000", "")
    client.post(link, {"name": "Olga Observer", "password": "a long enough password",
                       "confirm": "a long enough password"})
    assert User.by_email("olga@observers.example").roles == {Role.OBSERVER}
    assert client.get("/dashboard").headers["Location"] == "/secretariat/audit"
    page = client.get("/secretariat/audit").get_data(as_text=True)
    assert "Invitation accepted" in page and "Olga Observer" in page
    # Their menu offers what they read, and nothing of the secretariat's work.
    assert 'href="/board/vote/roll"' in page and 'href="/secretariat/mail"' in page
    assert 'href="/secretariat/people"' not in page and 'href="/secretariat/cycles"' not in page


def test_an_observer_reads_the_roll_the_recusals_the_mail_log_and_the_counted_result(client, world):
    client.login(world["observer"].email)
    roll = client.get("/board/vote/roll").get_data(as_text=True)
    assert "Bruno Board" in roll and "Clara Conflicted" in roll and "My sister leads the Venlo bid." in roll
    result = client.get("/board/results").get_data(as_text=True)
    assert "Palermo" in result and "only the board, the secretariat and the observers see this result" in result
    assert "Announce the result" not in result  # the secretariat's button, not theirs
    mail = client.get("/secretariat/mail").get_data(as_text=True)
    assert "mayor@palermo.example" in mail and "Your nomination" in mail
    assert "MARKER" not in mail  # the log, never the bodies
    log = client.get("/secretariat/audit").get_data(as_text=True)
    assert "Timeline or rules changed" in log and "Sofia Secretary" in log
    assert client.get("/secretariat/audit/export.jsonl").status_code == 200


def test_the_result_is_not_there_for_an_observer_before_it_is_counted(client, db, world):
    db.session.execute(Result.__table__.delete())
    db.session.commit()
    client.login(world["observer"].email)
    assert client.get("/board/results").status_code == 404


def _values(rule, world) -> list[dict]:
    """Each way to fill ``rule``'s arguments with objects that exist, so that a refusal is not a 404."""
    nomination = world["db"].session.scalar(select(Nomination))
    ids = {"user_id": world["bruno"].id, "cycle_id": world["cycle"].id, "city_id": nomination.host_city_id,
           "nomination_id": nomination.id, "attachment_id": 1, "passkey_id": 1, "role": int(Role.BOARD),
           "invitation_id": world["db"].session.scalar(select(Invitation.id)), "year": world["cycle"].year,
           "name": "tally.json", "filename": "capital.css", "token": "x", "kind": "jsonl", "page": "help",
           "job_id": 1, "criterion_id": 1}
    values = [{}]
    for argument in sorted(rule.arguments):
        options = sorted(getattr(rule._converters[argument], "items", None) or [ids[argument]])
        values = [dict(value, **{argument: option}) for value in values for option in options]
    return values


def _snapshot(db) -> dict:
    """Every row of every table."""
    db.session.expire_all()
    with db.engine.connect() as connection:
        return {table.name: connection.execute(select(table).order_by(*table.primary_key.columns)).all()
                for table in db.metadata.sorted_tables}


def test_an_observer_changes_nothing_by_any_route(app, client, db, world):
    client.login(world["observer"].email)
    world["db"] = db
    before = _snapshot(db)
    walked, read = 0, set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in OWN or rule.endpoint.startswith("auth."):
            continue
        for values in _values(rule, world):
            url = rule.build(values, append_unknown=False)[1]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.get(url) if method == "GET" else client.post(url, {})
                walked += 1
                if method == "GET" and rule.endpoint in READS:
                    assert response.status_code == 200, url
                    read.add(rule.endpoint)
                elif method == "GET" and rule.endpoint.startswith(("public.", "api.")):
                    assert response.status_code < 500, url  # the public site, as anyone sees it
                elif method == "GET":
                    # Refused; or, where a page would say whether something exists (a dossier), not found.
                    assert response.status_code in (403, 404), (url, response.status_code)
                else:
                    assert response.status_code == 403, (method, url, response.status_code)
    assert read == READS
    assert walked > 70
    assert _snapshot(db) == before
