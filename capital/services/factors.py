"""Second factors: the authenticator app (TOTP), passkeys (WebAuthn) and recovery codes (docs/roles.md).

Every change to a person's factors raises their session generation (the other sessions end;
the view keeps the device that made the change signed in), is written to the audit log and
is mailed to the person, so that someone who got hold of a session cannot quietly add a
factor of their own. A code or a passkey's answer is accepted once: the last accepted TOTP
step, and the issue time of the last accepted passkey challenge, only move forward, by an
``UPDATE … WHERE`` that two parallel requests cannot both pass.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pyotp
import segno
import webauthn
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from markupsafe import Markup, escape
from sqlalchemy import delete, func, or_, select, update
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria, AuthenticatorTransport, PublicKeyCredentialDescriptor, ResidentKeyRequirement,
    UserVerificationRequirement,
)

from capital.domain import second_factor as rules
from capital.domain.messages import N_, Message, RuleViolation
from capital.extensions import db
from capital.models import Passkey, RecoveryCode, TotpFactor, User
from capital.services import accounts
from capital.services.audit import Actor, record
from capital.services.mail import absolute_url, queue_mail

ISSUER = "Capital"
# How long a passkey ceremony may take, from the page to the answer.
CHALLENGE_SECONDS = 300
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LAST_FACTOR = N_("Your role needs a second factor: add another one (an authenticator app or a passkey) "
                  "before removing this one.")


class FactorError(RuleViolation):
    """A refused second-factor action, with a message for the person (``code`` says which field)."""

    def __init__(self, message: str | Message, code: str = "factor", **params):
        super().__init__(message if isinstance(message, Message) else Message(message, params, code))


# --- who needs what ----------------------------------------------------------------------

def required_for(user: User) -> bool:
    """Whether ``user``'s roles oblige them to sign in with a second factor (CAPITAL_REQUIRE_SECOND_FACTOR)."""
    return rules.requires_second_factor(user.roles, current_app.config["REQUIRE_SECOND_FACTOR"])


def has_second_factor(user: User) -> bool:
    return user.totp_factor is not None or bool(user.passkeys)


def can_remove_a_factor(user: User) -> bool:
    """Whether removing one of ``user``'s factors leaves what their role needs (at least one)."""
    return not required_for(user) or (user.totp_factor is not None) + len(user.passkeys) > 1


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(select(func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_dt.is_(None)))


def _has_recovery_codes(user: User) -> bool:
    return db.session.scalar(select(RecoveryCode.id).where(RecoveryCode.user_id == user.id).limit(1)) is not None


# --- the authenticator app's secret, encrypted at rest --------------------------------------

def _fernet() -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"capital:totp-secret").derive(
        current_app.config["SECRET_KEY"].encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str) -> str:
    """``secret`` encrypted (and authenticated) with a key derived from SECRET_KEY."""
    return _fernet().encrypt(secret.encode()).decode("ascii")


def unseal(sealed: str | None) -> str | None:
    """The secret :func:`seal` sealed, or None if it was sealed under another SECRET_KEY or altered."""
    try:
        return _fernet().decrypt((sealed or "").encode()).decode()
    except (InvalidToken, ValueError):
        return None


def totp_secret(user: User) -> str | None:
    """The person's authenticator-app secret in the clear (the demo prints it; tests compute codes)."""
    return unseal(user.totp_factor.secret_encrypted) if user.totp_factor else None


# --- the authenticator app -----------------------------------------------------------------

def new_totp_secret() -> str:
    """A fresh secret of 160 bits, in base32 as authenticator apps take it."""
    return pyotp.random_base32(32)


def totp_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_code_svg(text: str, label: str) -> Markup:
    """``text`` as a QR code in inline SVG, named ``label`` for assistive technology."""
    svg = segno.make(text, error="m").svg_inline(scale=5, border=4, dark="#1b1f24", light="#ffffff", omitsize=True)
    labelled = svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)
    return Markup(labelled)  # nosec B704: segno's own markup (paths of squares), the label escaped


def _matching_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    totp = pyotp.TOTP(secret, digits=rules.TOTP_DIGITS, interval=rules.TOTP_PERIOD)
    for step in rules.candidate_steps(now, last_step):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def set_up_totp(user: User, secret: str, typed: str, *, now: datetime) -> list[str] | None:
    """Keep ``secret`` as ``user``'s authenticator app once ``typed`` proves the app has it.

    Returns the recovery codes made for a person who had none (shown once), else None.
    """
    code = rules.normalise_code(typed or "")
    step = _matching_step(secret, code, now, None) if rules.is_totp_code(code) else None
    if step is None:
        raise FactorError(N_("This code is not right. Type the 6-digit code the app shows for Capital now "
                             "(and check that the phone's clock is right)."), code="factor.code")
    codes = None if _has_recovery_codes(user) else _replace_recovery_codes(user, now)
    replaced = user.totp_factor is not None
    factor = user.totp_factor or TotpFactor(user=user)
    factor.secret_encrypted, factor.last_step = seal(secret), step
    factor.created_dt = factor.last_used_dt = now
    db.session.add(factor)
    _changed(user, "second_factor.app_replaced" if replaced else "second_factor.app_added", now,
             N_("An authenticator app was set up to sign in to your account."))
    return codes


def give_app(user: User, secret: str, *, actor: Actor, now: datetime) -> None:
    """Give ``user`` an authenticator app whose key is known (the demo prints it); audited."""
    user.totp_factor = TotpFactor(secret_encrypted=seal(secret), created_dt=now)
    record("second_factor.app_added", user, actor=actor, now=now)


def _check_totp(user: User, code: str, now: datetime) -> None:
    factor = user.totp_factor
    secret = unseal(factor.secret_encrypted) if factor else None
    if secret is None:
        raise FactorError(rules.WRONG_CODE)
    step = _matching_step(secret, code, now, factor.last_step)
    if step is None:
        replayed = _matching_step(secret, code, now, None) is not None
        raise FactorError(rules.USED_CODE if replayed else rules.WRONG_CODE)
    # Only one request moves the step past this one; a parallel post of the same code finds it moved.
    moved = db.session.execute(
        update(TotpFactor).where(TotpFactor.id == factor.id,
                                 or_(TotpFactor.last_step.is_(None), TotpFactor.last_step < step))
        .values(last_step=step, last_used_dt=now).execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        raise FactorError(rules.USED_CODE)


def remove_totp(user: User, *, now: datetime) -> None:
    """Forget the person's authenticator app (not their last factor if their role needs one)."""
    if user.totp_factor is None:
        raise FactorError(N_("There is no authenticator app to remove."))
    if not can_remove_a_factor(user):
        raise FactorError(_LAST_FACTOR)
    user.totp_factor = None
    _after_removal(user, "second_factor.app_removed", now,
                   N_("The authenticator app was removed from your account."))


# --- recovery codes --------------------------------------------------------------------------

def _replace_recovery_codes(user: User, now: datetime) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = rules.new_recovery_codes()
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=accounts.hash_password(code), created_dt=now)
                       for code in codes)
    return [rules.display_recovery_code(code) for code in codes]


def regenerate_recovery_codes(user: User, *, now: datetime) -> list[str]:
    """Ten new recovery codes (shown once); the earlier ones stop working."""
    if not has_second_factor(user):
        raise FactorError(N_("Recovery codes back up a second factor: set one up first."))
    codes = _replace_recovery_codes(user, now)
    record("second_factor.recovery_codes_made", user, actor=user, now=now)
    _notify(user, "recovery-codes", N_("New recovery codes were made for your account; the earlier ones no "
                                       "longer work."), now)
    return codes


def _use_recovery_code(user: User, code: str, now: datetime) -> None:
    unused = db.session.scalars(select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_dt.is_(None)).order_by(RecoveryCode.id)).all()
    for row in unused:
        if accounts.matches_hash(row.code_hash, code):
            used = db.session.execute(
                update(RecoveryCode).where(RecoveryCode.id == row.id, RecoveryCode.used_dt.is_(None))
                .values(used_dt=now).execution_options(synchronize_session=False))
            if used.rowcount != 1:
                raise FactorError(N_("This recovery code was already used."), code="factor.code.used")
            record("second_factor.recovery_code_used", user, actor=user, now=now,
                   data={"left": len(unused) - 1})
            return
    raise FactorError(rules.WRONG_CODE)


# --- passkeys -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Ceremony:
    """A passkey ceremony under way: its challenge, when it was issued, and (registration) the handle."""

    challenge: bytes
    issued_ns: int
    handle: bytes | None = None

    def as_session(self) -> dict:
        return {"challenge": bytes_to_base64url(self.challenge), "issued_ns": self.issued_ns,
                "handle": bytes_to_base64url(self.handle) if self.handle else None}

    @classmethod
    def from_session(cls, data) -> Ceremony | None:
        try:
            return cls(base64url_to_bytes(data["challenge"]), int(data["issued_ns"]),
                       base64url_to_bytes(data["handle"]) if data.get("handle") else None)
        except (TypeError, KeyError, ValueError):
            return None


def _ns(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


def relying_party() -> tuple[str, str]:
    """The passkeys' relying party: (id, origin), both from CAPITAL_BASE_URL — never from the request,
    so a look-alike site relaying the ceremony is refused."""
    parts = urlsplit(current_app.config["BASE_URL"])
    return parts.hostname or "localhost", f"{parts.scheme}://{parts.netloc}"


def _descriptors(user: User) -> list[PublicKeyCredentialDescriptor]:
    known = {transport.value for transport in AuthenticatorTransport}
    return [PublicKeyCredentialDescriptor(id=passkey.credential_id,
                                          transports=[AuthenticatorTransport(t) for t in passkey.transports
                                                      if t in known] or None)
            for passkey in user.passkeys]


def registration_options(user: User, *, now: datetime) -> tuple[str, Ceremony]:
    """What the browser needs to create a passkey (JSON), and the ceremony to keep in the session."""
    rp_id, _origin = relying_party()
    handle = user.webauthn_handle or secrets.token_bytes(32)
    options = webauthn.generate_registration_options(
        rp_id=rp_id, rp_name=ISSUER, user_id=handle, user_name=user.email, user_display_name=user.name,
        timeout=CHALLENGE_SECONDS * 1000, exclude_credentials=_descriptors(user),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.PREFERRED))
    return webauthn.options_to_json(options), Ceremony(options.challenge, _ns(now), handle)


def authentication_options(user: User, *, now: datetime) -> tuple[str, Ceremony]:
    """What the browser needs to sign in with one of ``user``'s passkeys (JSON), and the ceremony."""
    rp_id, _origin = relying_party()
    options = webauthn.generate_authentication_options(
        rp_id=rp_id, timeout=CHALLENGE_SECONDS * 1000, allow_credentials=_descriptors(user),
        user_verification=UserVerificationRequirement.PREFERRED)
    return webauthn.options_to_json(options), Ceremony(options.challenge, _ns(now))


def _browser_answer(answer: str, refusal: str) -> dict:
    """The browser's answer (JSON from capital/static/passkeys.js), or FactorError with ``refusal``."""
    try:
        data = json.loads(answer or "")
    except ValueError:
        data = None
    if not isinstance(data, dict) or "error" in data or not isinstance(data.get("rawId"), str):
        raise FactorError(refusal, code="passkey")
    return data


def _ongoing(ceremony: Ceremony | None, now: datetime) -> Ceremony:
    if ceremony is None or not 0 <= _ns(now) - ceremony.issued_ns <= CHALLENGE_SECONDS * 10**9:
        raise FactorError(N_("The passkey took too long to answer. Try again."), code="passkey")
    return ceremony


def _passkey_name(typed: str) -> str:
    """The name a person gave a passkey, spaces tidied; FactorError if it is empty or too long."""
    name = " ".join((typed or "").split())
    if not name:
        raise FactorError(N_("Give the passkey a name, such as the device it is on."), code="passkey.name")
    if len(name) > rules.PASSKEY_NAME_LENGTH:
        raise FactorError(N_("Use at most %(count)s characters."), code="passkey.name", count=rules.PASSKEY_NAME_LENGTH)
    return name


def register_passkey(user: User, name: str, answer: str, ceremony: Ceremony | None, *,
                     now: datetime) -> list[str] | None:
    """Keep the passkey the browser created, under ``name``.

    Returns the recovery codes made for a person who had none (shown once), else None.
    """
    name = _passkey_name(name)
    data = _browser_answer(answer, N_("No passkey was created (it was cancelled, or the browser cannot make "
                                      "one). Try again, or set up an authenticator app."))
    ceremony = _ongoing(ceremony, now)
    rp_id, origin = relying_party()
    try:
        verified = webauthn.verify_registration_response(credential=data, expected_challenge=ceremony.challenge,
                                                         expected_rp_id=rp_id, expected_origin=origin)
    except (WebAuthnException, ValueError, TypeError, KeyError, AttributeError):
        raise FactorError(N_("This passkey could not be checked. Try again."), code="passkey") from None
    if db.session.scalar(select(Passkey.id).where(Passkey.credential_id == verified.credential_id)) is not None:
        raise FactorError(N_("This passkey is already registered."), code="passkey")
    transports = (data.get("response") or {}).get("transports") or []
    codes = None if _has_recovery_codes(user) else _replace_recovery_codes(user, now)
    user.webauthn_handle = user.webauthn_handle or ceremony.handle
    user.passkeys.append(Passkey(
        credential_id=verified.credential_id, public_key=verified.credential_public_key,
        sign_count=verified.sign_count, name=name, created_dt=now,
        transports=[str(t) for t in transports if isinstance(t, str)][:8]))
    _changed(user, "second_factor.passkey_added", now, N_("A passkey named “%(name)s” was added to your account."),
             name=name)
    return codes


def _check_passkey(user: User, answer: str, ceremony: Ceremony | None, now: datetime) -> None:
    data = _browser_answer(answer, N_("The passkey was not used (it was cancelled or timed out). Try again, "
                                      "or type a code."))
    try:
        credential_id = base64url_to_bytes(data["rawId"])
    except ValueError:
        credential_id = b""
    passkey = next((p for p in user.passkeys if p.credential_id == credential_id), None)
    if passkey is None:
        raise FactorError(N_("This passkey is not registered to your account."), code="passkey")
    ceremony = _ongoing(ceremony, now)
    rp_id, origin = relying_party()
    try:
        verified = webauthn.verify_authentication_response(
            credential=data, expected_challenge=ceremony.challenge, expected_rp_id=rp_id, expected_origin=origin,
            credential_public_key=passkey.public_key, credential_current_sign_count=passkey.sign_count)
    except (WebAuthnException, ValueError, TypeError, KeyError, AttributeError):
        raise FactorError(N_("This passkey could not be checked. Try again."), code="passkey") from None
    moved = db.session.execute(
        update(Passkey).where(Passkey.id == passkey.id,
                              or_(Passkey.last_challenge_ns.is_(None), Passkey.last_challenge_ns < ceremony.issued_ns))
        .values(last_challenge_ns=ceremony.issued_ns, sign_count=verified.new_sign_count, last_used_dt=now)
        .execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        raise FactorError(N_("This passkey answer was already used. Try again."), code="passkey")


def rename_passkey(passkey: Passkey, name: str, *, now: datetime) -> None:
    name = _passkey_name(name)
    record("second_factor.passkey_renamed", passkey.user, actor=passkey.user, now=now,
           data={"passkey_id": passkey.id})
    passkey.name = name


def remove_passkey(passkey: Passkey, *, now: datetime) -> None:
    """Forget a passkey (not the last factor of someone whose role needs one)."""
    user = passkey.user
    if not can_remove_a_factor(user):
        raise FactorError(_LAST_FACTOR)
    user.passkeys.remove(passkey)
    _after_removal(user, "second_factor.passkey_removed", now,
                   N_("The passkey named “%(name)s” was removed from your account."), name=passkey.name)


# --- signing in, confirming -------------------------------------------------------------------

def check_second_factor(user: User, *, code: str = "", answer: str = "", ceremony: Ceremony | None = None,
                        now: datetime) -> str:
    """Accept ``user``'s second factor once: a passkey's ``answer`` to ``ceremony``, else ``code`` (from the
    app, or a recovery code). Returns what was used: ``"passkey"``, ``"app"`` or ``"recovery"``."""
    if answer:
        _check_passkey(user, answer, ceremony, now)
        return "passkey"
    code = rules.normalise_code(code or "")
    if not code:
        raise FactorError(rules.NO_CODE)
    if rules.is_totp_code(code):
        _check_totp(user, code, now)
        return "app"
    if rules.is_recovery_code(code):
        _use_recovery_code(user, code, now)
        return "recovery"
    raise FactorError(rules.WRONG_CODE)


# --- lost factors ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Summary:
    """What the secretariat sees of a person's factors (never a secret)."""

    has_app: bool
    passkeys: int
    recovery_codes_left: int
    required: bool

    @property
    def has_any(self) -> bool:
        return self.has_app or self.passkeys > 0


def summary(user: User) -> Summary:
    return Summary(user.totp_factor is not None, len(user.passkeys), recovery_codes_left(user), required_for(user))


def can_reset(user: User, *, actor: Actor) -> bool:
    """Whether ``actor`` may reset ``user``'s factors: someone else's, and there is something to reset."""
    return not (isinstance(actor, User) and actor.id == user.id) and (
        has_second_factor(user) or _has_recovery_codes(user))


def reset_second_factor(user: User, *, actor: Actor, now: datetime) -> None:
    """Another secretariat member forgets every factor of ``user``, who lost them: their sessions end,
    they are mailed, and they set up a new factor at their next sign-in."""
    if isinstance(actor, User) and actor.id == user.id:
        raise FactorError(N_("You can't reset your own second factor: another member of the secretariat does it."))
    if not can_reset(user, actor=actor):
        raise FactorError(N_("%(name)s has no second factor to reset."), name=user.name)
    user.totp_factor = None
    user.passkeys.clear()
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    accounts.end_sessions(user)
    record("second_factor.reset", user, actor=actor, now=now)
    queue_mail("second_factor_reset", recipient=user.email, locale=user.mail_language, now=now, timezone=_zone(user),
               dedupe=f"reset-{now:%Y%m%dT%H%M%S%f}", subject=N_("Your Capital second factor was reset"),
               context={"name": user.name, "by": actor.name if isinstance(actor, User) else "",
                        "when": now, "link": absolute_url("auth.login")})


# --- what every change does -----------------------------------------------------------------------

# A passkey's name is the person's own words: kept on the passkey and in their mail, never in the audit
# log, whose hashed content must hold no name so that erasing a person leaves the chain whole.
_NOT_LOGGED = frozenset({"name"})


def _changed(user: User, action: str, now: datetime, notice: str, **params) -> None:
    accounts.end_sessions(user)
    record(action, user, actor=user, now=now, data={k: v for k, v in params.items() if k not in _NOT_LOGGED})
    _notify(user, action, notice, now, **params)


def _after_removal(user: User, action: str, now: datetime, notice: str, **params) -> None:
    db.session.flush()
    if not has_second_factor(user):  # recovery codes back up a factor; none is left
        db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    _changed(user, action, now, notice, **params)


def _zone(user: User) -> str:
    return user.timezone or (user.city.timezone if user.city else "UTC")


def _notify(user: User, occasion: str, notice: str, now: datetime, **params) -> None:
    queue_mail("second_factor_changed", recipient=user.email, locale=user.mail_language, now=now,
               timezone=_zone(user), dedupe=f"{occasion}-{now:%Y%m%dT%H%M%S%f}",
               subject=N_("Your Capital sign-in security changed"),
               context={"name": user.name, "notice": notice, "params": params, "when": now,
                        "link": absolute_url("auth.security")})
