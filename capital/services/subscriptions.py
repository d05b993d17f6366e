"""Subscriptions to the announcements: double opt-in, and nothing that tells whether an address is known.

Asking to subscribe stores nothing about the address: it queues a confirmation mail whose
signed link carries the address, the language and the moment it was asked for. Only that
link, within :data:`LINK_DAYS`, creates or confirms the :class:`Subscriber`. So the request
does the same work and gets the same answer for a new address, a subscribed one and one
that unsubscribed earlier, and an address nobody confirmed is never kept.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from capital.config import LOCALES
from capital.extensions import db
from capital.domain.messages import N_
from capital.models import Subscriber
from capital.services.audit import record
from capital.services.mail import absolute_url, queue_mail

LINK_DAYS = 7
CONFIRMATION_SUBJECT = N_("Confirm your subscription to the Capital of Living Together")


def _serializer() -> URLSafeSerializer:
    # Signed like the unsubscribe link (capital.services.mail), under its own salt.
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="subscribe")


def confirmation_token(email: str, locale: str, now: datetime) -> str:
    """The signed token of a confirmation link: the address, the language, when it was asked for."""
    return _serializer().dumps({"email": email.strip().lower(), "locale": locale, "at": int(now.timestamp())})


def request_subscription(email: str, locale: str, *, now: datetime) -> None:
    """Mail ``email`` a link that confirms its subscription in ``locale``.

    Whatever the address's state, the same mail is queued and nothing else is read or
    written: the caller's answer cannot depend on it.
    """
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r}")
    token = confirmation_token(email, locale, now)
    queue_mail("subscription_confirmation", recipient=email, locale=locale, subject=CONFIRMATION_SUBJECT,
               context={"link": absolute_url("public.confirm_subscription_page", token=token),
                        "expires": now + timedelta(days=LINK_DAYS)},
               now=now, dedupe=now.isoformat())


def pending_subscription(token: str, now: datetime) -> dict | None:
    """What a confirmation token asks for (``email``, ``locale``, ``at``), or None if forged or expired."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not (isinstance(data, dict) and isinstance(data.get("email"), str) and data.get("locale") in LOCALES
            and isinstance(data.get("at"), int)):
        return None
    asked = datetime.fromtimestamp(data["at"], UTC)
    if not asked <= now < asked + timedelta(days=LINK_DAYS):
        return None
    return {**data, "at": asked}


def confirm_subscription(token: str, *, now: datetime) -> Subscriber | None:
    """Confirm the subscription a link asks for; None if the link is forged, expired, or older
    than the address's last unsubscription (an old link does not undo it)."""
    pending = pending_subscription(token, now)
    if pending is None:
        return None
    subscriber = _subscriber(pending["email"])
    if subscriber is None:
        subscriber = Subscriber(email=pending["email"], locale=pending["locale"], created_dt=now)
        try:
            with db.session.begin_nested():  # the same link opened twice at once
                db.session.add(subscriber)
        except IntegrityError:
            subscriber = _subscriber(pending["email"])
    if subscriber.unsubscribed_dt is not None:
        if subscriber.unsubscribed_dt >= pending["at"]:
            return None
        subscriber.unsubscribed_dt = None
    subscriber.locale = pending["locale"]
    if subscriber.confirmed_dt is None:
        subscriber.confirmed_dt = now
    db.session.flush()
    record("subscriber.confirmed", subscriber, actor="public", now=now)
    return subscriber


def _subscriber(email: str) -> Subscriber | None:
    return db.session.scalar(select(Subscriber).where(func.lower(Subscriber.email) == email))
