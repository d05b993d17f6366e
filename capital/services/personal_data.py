"""What Capital holds on a person, for them to download; and erasing a person who left (docs/personal-data.md).

The audit log's hashed content names people only by their account's id (``actor_id``, ``object_id``),
never by name or address: erasing a person replaces the name and addresses on their account, their
invitations, their subscription and the mail to them (its stored texts and its file in the outbox folder)
by a pseudonym, and every entry of the chain still verifies. Ballots and the published files never held
a voter (docs/vote.md), so they have nothing to erase.
"""

from __future__ import annotations

import json

import html
import secrets
from datetime import date, datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import markupsafe
from flask import current_app
from sqlalchemy import delete, or_, select

from capital.domain.messages import N_, Message, RuleViolation
from capital.extensions import db
from capital.models import (
    ImportJob,
    AuditEntry, Invitation, Mail, MailingPart, RecoveryCode, Recusal, Subscriber, User,
)
from capital.services.accounts import end_sessions
from capital.services.audit import Actor, record
from capital.services.mail import build_message, mail_bodies

# The domain of a pseudonymous address: reserved (RFC 2606), so nothing is ever sent there.
ERASED_DOMAIN = "erased.invalid"


def _moment(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def personal_data(user: User) -> dict[str, Any]:
    """Everything Capital holds on ``user``, as JSON-ready values.

    Second factors appear as what they are and when they were used, never their secrets (the app's key,
    a passkey's key, a recovery code's hash). The mail is what was sent to their address, with its text
    while the retention rule keeps it; the audit entries are those they made and those about their account.
    """
    invitations = db.session.scalars(select(Invitation).where(
        or_(Invitation.user_id == user.id, Invitation.email == user.email)).order_by(Invitation.id)).all()
    mails = db.session.scalars(select(Mail).where(Mail.recipient == user.email).order_by(Mail.created_dt, Mail.id)).all()
    parts = {part.id: part for part in db.session.scalars(
        select(MailingPart).where(MailingPart.id.in_({mail.part_id for mail in mails if mail.part_id})))}
    about = or_(AuditEntry.actor_id == user.id,
                (AuditEntry.object_type == "User") & (AuditEntry.object_id == str(user.id)),
                (AuditEntry.object_type == "Invitation") & AuditEntry.object_id.in_([str(i.id) for i in invitations]))
    entries = db.session.scalars(select(AuditEntry).where(about).order_by(AuditEntry.seq, AuditEntry.id)).all()
    recusals = db.session.scalars(select(Recusal).where(Recusal.user_id == user.id).order_by(Recusal.id)).all()
    subscriber = db.session.scalar(select(Subscriber).where(Subscriber.email == user.email))
    totp = user.totp_factor
    codes = db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)
                               .order_by(RecoveryCode.id)).all()
    return {
        "account": {
            "id": user.id, "name": user.name, "email": user.email, "language": user.locale,
            "mail_language": user.mail_locale, "time_zone": user.timezone,
            "city": user.city.name if user.city else None, "can_sign_in": user.is_active_account,
            "created": _moment(user.created_dt), "last_sign_in": _moment(user.last_login_dt),
            "erased": _moment(user.erased_dt),
        },
        "roles": [{"role": grant.role.name.lower(), "granted": _moment(grant.granted_dt)} for grant in user.role_grants],
        "board_terms": [{"starts_on": _moment(term.starts_on), "ends_on": _moment(term.ends_on), "note": term.note}
                        for term in user.board_terms],
        "second_factor": {
            "authenticator_app": None if totp is None else {"set_up": _moment(totp.created_dt),
                                                            "last_used": _moment(totp.last_used_dt)},
            "passkeys": [{"name": key.name, "added": _moment(key.created_dt), "last_used": _moment(key.last_used_dt),
                          "transports": key.transports} for key in user.passkeys],
            "recovery_codes": [{"made": _moment(code.created_dt), "used": _moment(code.used_dt)} for code in codes],
        },
        "invitations": [{"email": i.email, "name": i.name, "role": i.role.name.lower(), "sent": _moment(i.created_dt),
                         "expires": _moment(i.expires_dt), "accepted": _moment(i.accepted_dt),
                         "withdrawn": _moment(i.revoked_dt)} for i in invitations],
        "recusals": [{"cycle_id": r.cycle_id, "reason": r.reason, "automatic": r.is_automatic,
                      "declared": _moment(r.declared_dt)} for r in recusals],
        "subscription": None if subscriber is None else {
            "email": subscriber.email, "language": subscriber.locale, "subscribed": _moment(subscriber.created_dt),
            "confirmed": _moment(subscriber.confirmed_dt), "unsubscribed": _moment(subscriber.unsubscribed_dt)},
        "mail": [{"kind": mail.kind, "subject": mail.subject, "language": mail.locale, "state": mail.state.name.lower(),
                  "recorded": _moment(mail.created_dt), "sent": _moment(mail.sent_dt),
                  "text": mail_bodies(mail, parts.get(mail.part_id))[0]} for mail in mails],
        "audit_log": [{"seq": entry.seq, "dt": _moment(entry.dt), "action": entry.action,
                       "by_this_person": entry.actor_id == user.id, "object_type": entry.object_type,
                       "object_id": entry.object_id, "cycle_id": entry.cycle_id, "data": entry.data}
                      for entry in entries],
    }


# --- erasure ----------------------------------------------------------------------------------------

def erasure_refusal(user: User, *, actor: Actor) -> Message | None:
    """Why ``user`` cannot be erased now (None when they can): a person holding a role is still needed."""
    if user.erased_dt is not None:
        return Message(N_("This person was already erased."), code="erasure.done")
    if isinstance(actor, User) and actor.id == user.id:
        return Message(N_("Nobody erases themselves: another member of the secretariat does it."), code="erasure.self")
    if user.role_grants:
        return Message(N_("%(name)s still holds a role. Take away every role first, then erase."),
                       {"name": user.name}, code="erasure.open_role")
    return None


def erase_person(user: User, *, actor: Actor, now: datetime) -> str:
    """Replace ``user``'s name and addresses by a pseudonym everywhere Capital keeps them; the pseudonym.

    Their account stays (the audit log and the board's history point at its id) but cannot sign in; their
    second factors, password and sessions are gone. The audit entry saying so names no one.
    """
    refusal = erasure_refusal(user, actor=actor)
    if refusal is not None:
        raise RuleViolation(refusal)
    reference = secrets.token_hex(4)
    pseudonym, address = f"Erased person {reference}", f"erased-{reference}@{ERASED_DOMAIN}"
    old_name, old_address = user.name, user.email
    invitations = db.session.scalars(select(Invitation).where(
        or_(Invitation.user_id == user.id, Invitation.email == old_address))).all()
    names = {name for name in [old_name, *(i.name for i in invitations)] if name.strip()}

    def scrub(text: str, *, escapes=(str,)) -> str:
        for value, replacement in [(old_address, address), *((name, pseudonym) for name in names)]:
            for escape in escapes:  # as the templates wrote it (Jinja's escape), or the mailing parts (html's)
                text = text.replace(str(escape(value)), str(escape(replacement)))
        return text

    for invitation in invitations:
        invitation.email, invitation.name = address, pseudonym
    mails = db.session.scalars(select(Mail).where(Mail.recipient == old_address)).all()
    for mail in mails:
        mail.recipient, mail.dedupe_key = address, scrub(mail.dedupe_key)
        mail.recipient_name = pseudonym if mail.recipient_name else ""
        mail.subject, mail.last_error = scrub(mail.subject), scrub(mail.last_error)
        mail.body_text, mail.body_html = scrub(mail.body_text), scrub(mail.body_html, escapes=(str, markupsafe.escape, html.escape))
    # An onboarding file, and its report, may hold the person's line: their name and address go too.
    for job in db.session.scalars(select(ImportJob).where(ImportJob.kind == "people")).all():
        data = job.data
        for value, replacement in [(old_address, address), *((name, pseudonym) for name in names)]:
            data = data.replace(value.encode(), replacement.encode())
        if data != job.data:
            job.data = data
        if job.report is not None:
            report = json.loads(scrub(json.dumps(job.report, ensure_ascii=False)))
            if report != job.report:
                job.report = report
    subscriber = db.session.scalar(select(Subscriber).where(Subscriber.email == old_address))
    if subscriber is not None:
        subscriber.email = address
        subscriber.unsubscribed_dt = subscriber.unsubscribed_dt or now
    user.name, user.email, user.password_hash, user.timezone, user.city_id = pseudonym, address, None, None, None
    user.is_active_account, user.webauthn_handle, user.erased_dt = False, None, now
    user.totp_factor = None
    user.passkeys.clear()
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    end_sessions(user)
    db.session.flush()
    _rewrite_outbox(mails, old_address)
    record("person.erased", user, actor=actor, now=now)
    return pseudonym


def _rewrite_outbox(mails: list[Mail], old_address: str) -> None:
    """The outbox folder's copy of each mail to the old address, written again from the scrubbed row."""
    folder = Path(current_app.config["MAIL_OUTBOX_DIR"])
    if not folder.is_dir() or not mails:
        return
    by_id = {mail.id: mail for mail in mails}
    for path in folder.glob("*.eml"):
        _, _, rest = path.name.partition("-")
        number = rest.partition("-")[0]
        mail = by_id.get(int(number)) if number.isdigit() else None
        if mail is None:
            continue
        if message_from_bytes(path.read_bytes(), policy=policy.default)["To"] != old_address:
            continue
        path.write_bytes(bytes(build_message(mail)))
