"""Accounts: passwords, invitations, password resets and roles."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from capital.domain.localisation import LOCALES, is_timezone
from capital.domain.messages import N_, Message, RuleViolation
from capital.domain.roles import INVITATION_REFUSALS, Role
from capital.extensions import db
from capital.models import BoardTerm, City, Invitation, RoleGrant, User
from capital.services.audit import Actor, record
from capital.services.dispatch import after_commit
from capital.services.mail import absolute_url, queue_mail

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10
# A hash of an unguessable password: failed logins for unknown e-mails cost the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(RuleViolation):
    """A refused account action, with a message for the person."""

    def __init__(self, message: str, **params):
        super().__init__(Message(message, params))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(N_("Choose a password of at least %(count)s characters."), count=MIN_PASSWORD_LENGTH)


def authenticate(email: str, password: str, now: datetime) -> User | None:
    """The active user with this e-mail and password, or None (in constant-ish time)."""
    user = User.by_email(email)
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_active or not user.password_hash:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_dt = now
    return user


def end_sessions(user: User) -> None:
    """End every session ``user`` has open, on every device (their cookies are refused from now on)."""
    user.session_generation = (user.session_generation or 0) + 1


def sign_out(user: User) -> None:
    """Signing out ends the person's sessions everywhere, so a copied cookie is worthless too."""
    end_sessions(user)


def matches_hash(stored: str | None, secret: str) -> bool:
    """Whether ``secret`` is the one whose Argon2 hash is ``stored`` (a password, a recovery code)."""
    try:
        return bool(stored) and _hasher.verify(stored, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password(user: User, password: str) -> bool:
    """Whether ``password`` is ``user``'s (to confirm a sensitive action)."""
    return matches_hash(user.password_hash, password)


def create_admin(email: str, password: str, *, name: str, now: datetime) -> User:
    """Create a secretariat account (the first one, from the command line); AccountError if refused."""
    email = email.strip().lower()
    if User.by_email(email) is not None:
        raise AccountError(N_("An account with this e-mail address already exists."))
    check_password_strength(password)
    user = User(email=email, name=name.strip() or email, password_hash=hash_password(password), created_dt=now)
    db.session.add(user)
    db.session.flush()
    grant_role(user, Role.SECRETARIAT, actor="system", now=now)
    return user


def grant_role(user: User, role: Role, *, actor: Actor, now: datetime) -> None:
    if role not in user.roles:
        user.role_grants.append(RoleGrant(role=role, granted_dt=now))
        end_sessions(user)
        record("role.granted", user, actor=actor, now=now, data={"role": role.name})


def revoke_role(user: User, role: Role, *, actor: Actor, now: datetime) -> None:
    # Nobody takes away their own secretariat role: they would lock themselves out at once.
    if role == Role.SECRETARIAT and isinstance(actor, User) and actor.id == user.id:
        raise AccountError(N_("You can't take away your own secretariat role."))
    for grant in list(user.role_grants):
        if grant.role == role:
            user.role_grants.remove(grant)
            end_sessions(user)
            record("role.revoked", user, actor=actor, now=now, data={"role": role.name})


def update_settings(user: User, *, name: str, locale: str, timezone: str | None, now: datetime,
                    mail_locale: str | None = None) -> None:
    """A person's own name, interface language, mail language (None: unchanged) and time zone (None: their city's)."""
    if locale not in LOCALES or (mail_locale is not None and mail_locale not in LOCALES):
        raise AccountError(N_("This language is not available."))
    if timezone and not is_timezone(timezone):
        raise AccountError(N_("This is not a known time zone."))
    user.name, user.locale, user.timezone = name.strip(), locale, timezone or None
    user.mail_locale = mail_locale or user.mail_locale
    record("account.settings_changed", user, actor=user, now=now,
           data={"locale": locale, "mail_locale": user.mail_locale, "timezone": user.timezone})


def set_account_active(user: User, is_active: bool, *, actor: Actor, now: datetime) -> bool:
    """Let a person sign in again, or stop them (their open sessions end too); True if it changed."""
    if not is_active and isinstance(actor, User) and actor.id == user.id:
        raise AccountError(N_("You can't deactivate your own account."))
    if user.is_active_account == is_active:
        return False
    user.is_active_account = is_active
    end_sessions(user)
    record("account.reactivated" if is_active else "account.deactivated", user, actor=actor, now=now)
    return True


def add_board_term(user: User, starts_on: date, ends_on: date, *, actor: Actor, now: datetime) -> BoardTerm:
    if ends_on < starts_on:
        raise AccountError(N_("A term must end after it starts."))
    term = BoardTerm(starts_on=starts_on, ends_on=ends_on)
    user.board_terms.append(term)
    grant_role(user, Role.BOARD, actor=actor, now=now)
    db.session.flush()
    record("board_term.added", user, actor=actor, now=now,
           data={"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()})
    return term


# --- invitations -------------------------------------------------------------------------

def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def invite(email: str, role: Role, *, name: str = "", city: City | None = None, locale: str = "en",
           actor: Actor, now: datetime) -> Invitation:
    """Record an invitation and queue its mail; the link is signed, expiring and single-use."""
    email = email.strip().lower()
    if role == Role.REPRESENTATIVE and city is None:
        raise AccountError(N_("A city representative must be invited for a city."))
    invitation = Invitation(
        email=email, name=name, role=role, city_id=city.id if city else None, locale=locale,
        nonce=secrets.token_urlsafe(24), created_dt=now,
        expires_dt=now + timedelta(days=current_app.config["INVITATION_DAYS"]),
        invited_by_id=actor.id if isinstance(actor, User) else None,
    )
    db.session.add(invitation)
    db.session.flush()
    # The address stays on the invitation (erasable), not in the hashed log.
    record("invitation.sent", invitation, actor=actor, now=now, data={"role": role.name})
    token = _serializer("invitation").dumps({"id": invitation.id, "nonce": invitation.nonce})
    queue_mail(
        "invitation", recipient=email, locale=locale, now=now, city_id=invitation.city_id,
        dedupe=f"invitation-{invitation.id}",
        subject=N_("You are invited to Capital"),
        context={"name": name, "role_title": role.title, "city_name": city.name if city else "",
                 "link": absolute_url("auth.accept_invitation", token=token),
                 "expires_dt": invitation.expires_dt},
    )
    return invitation


def load_invitation(token: str, now: datetime) -> Invitation:
    """The invitation a link stands for, if it can still be used; AccountError otherwise."""
    max_age = current_app.config["INVITATION_DAYS"] * 86400
    try:
        data = _serializer("invitation").loads(token, max_age=max_age)
    except SignatureExpired:
        raise AccountError(N_("This invitation has expired. Ask the secretariat for a new one.")) from None
    except BadSignature:
        raise AccountError(N_("This invitation link is not valid.")) from None
    invitation = db.session.get(Invitation, data.get("id"))
    if invitation is None or not secrets.compare_digest(invitation.nonce, str(data.get("nonce"))):
        raise AccountError(N_("This invitation link is not valid."))
    state = invitation.state(now)
    if not state.is_usable:
        raise AccountError(INVITATION_REFUSALS[state])
    return invitation


def accept_invitation(token: str, *, name: str, password: str, now: datetime) -> User:
    """Create (or extend) the invited person's account and use up the invitation."""
    invitation = load_invitation(token, now)
    # Lock the row: two tabs submitting the same link must not both succeed.
    invitation = db.session.get(Invitation, invitation.id, with_for_update=True, populate_existing=True)
    state = invitation.state(now)
    if not state.is_usable:
        raise AccountError(INVITATION_REFUSALS[state])
    check_password_strength(password)
    user = User.by_email(invitation.email)
    if user is None:
        user = User(email=invitation.email, name=name.strip() or invitation.name, locale=invitation.locale,
                    mail_locale=invitation.locale, created_dt=now)
        db.session.add(user)
    else:
        end_sessions(user)  # their password changes: sessions opened with the old one end
    user.password_hash = hash_password(password)
    if invitation.city_id is not None:
        user.city_id = invitation.city_id
    db.session.flush()
    grant_role(user, invitation.role, actor=user, now=now)
    invitation.accepted_dt = now
    invitation.user_id = user.id
    record("invitation.accepted", invitation, actor=user, now=now)
    return user


def revoke_invitation(invitation: Invitation, *, actor: Actor, now: datetime) -> None:
    if invitation.accepted_dt is None and invitation.revoked_dt is None:
        invitation.revoked_dt = now
        record("invitation.revoked", invitation, actor=actor, now=now)


# --- password reset -----------------------------------------------------------------------

def _password_fingerprint(user: User) -> str:
    # Changes with the password, so a reset link works once.
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:20]


def request_password_reset(email: str, *, locale: str, now: datetime) -> None:
    """Ask for a reset link to be mailed if ``email`` has an account.

    The request does the same work whatever the address (it only queues a task that runs
    after the response), so its timing does not tell whether the address has an account.
    """
    from capital.tasks.mail import password_reset  # here: the task module builds on this one

    after_commit(password_reset, email.strip().lower(), locale, now.isoformat(), after_response=True)


def send_password_reset(email: str, *, locale: str, now: datetime) -> None:
    """Mail a reset link if the address has an active account; do nothing otherwise."""
    user = User.by_email(email)
    if user is None or not user.is_active:
        return
    token = _serializer("password-reset").dumps({"id": user.id, "fp": _password_fingerprint(user)})
    queue_mail(
        "password_reset", recipient=user.email, locale=user.mail_locale or user.locale or locale, now=now,
        dedupe=f"reset-{now:%Y%m%dT%H%M%S%f}",  # the request's time: a retried task mails once
        subject=N_("Reset your Capital password"),
        context={"name": user.name, "link": absolute_url("auth.reset_password", token=token),
                 "minutes": current_app.config["PASSWORD_RESET_SECONDS"] // 60},
    )
    record("password_reset.requested", user, actor="system", now=now)


def reset_password(token: str, password: str, now: datetime) -> User:
    try:
        data = _serializer("password-reset").loads(token, max_age=current_app.config["PASSWORD_RESET_SECONDS"])
    except SignatureExpired:
        raise AccountError(N_("This reset link has expired. Ask for a new one.")) from None
    except BadSignature:
        raise AccountError(N_("This reset link is not valid.")) from None
    user = db.session.get(User, data.get("id"))
    if user is None or not user.is_active or not secrets.compare_digest(_password_fingerprint(user), str(data.get("fp"))):
        raise AccountError(N_("This reset link is not valid or was already used."))
    check_password_strength(password)
    user.password_hash = hash_password(password)
    end_sessions(user)
    record("password.reset", user, actor=user, now=now)
    return user
