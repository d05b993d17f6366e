"""Subscribing to the announcements: double opt-in, the same answer for every address, throttled."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from capital.domain.phase import Phase
from capital.models import Mail, Mailing, Subscriber
from capital.public import clock
from capital.services.mailings import write_mailing_range
from capital.services.notices import queue_announcement_mail
from capital.services.subscriptions import confirm_subscription, confirmation_token
from tests.services.test_notices import catalog

NOW = datetime(2031, 3, 2, 9, 30, tzinfo=UTC)
LINK = re.compile(r"http://127\.0\.0\.1:5000(/subscribe/[A-Za-z0-9_.-]+)")


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def subscribe(client, email, locale="fr"):
    return client.post("/subscribe", {"subscribe-email": email, "subscribe-locale": locale})


def confirmations(db) -> list[Mail]:
    return list(db.session.scalars(select(Mail).where(Mail.kind == "subscription_confirmation").order_by(Mail.id)))


def confirmation_path(mail: Mail) -> str:
    path = LINK.search(mail.body_text).group(1)
    assert f"http://127.0.0.1:5000{path}" in mail.body_html
    return path


def test_subscribing_mails_a_link_in_the_chosen_language_and_only_the_link_confirms(app, db, client):
    response = subscribe(client, "  Reader@Example.org ")
    assert response.status_code == 302
    [mail] = confirmations(db)
    assert mail.recipient == "reader@example.org" and mail.locale == "fr"
    assert mail.subject == catalog("fr", "Confirm your subscription to the Capital of Living Together")
    assert catalog("fr", "Confirm my subscription") in mail.body_html
    asked = catalog("fr", "Someone asked to receive the announcements of the Capital of Living Together at this "
                          "address. If it was you, confirm with this link:")
    assert asked in mail.body_text and asked in mail.body_html
    assert db.session.scalar(select(Subscriber)) is None  # nothing kept before the link is opened

    path = confirmation_path(mail)
    page = client.get(path)  # a mail scanner following the link confirms nothing
    assert page.status_code == 200 and "reader@example.org" in page.get_data(as_text=True)
    assert db.session.scalar(select(Subscriber)) is None

    done = client.post(path)
    assert done.status_code == 200
    subscriber = db.session.scalar(select(Subscriber))
    assert subscriber.email == "reader@example.org" and subscriber.locale == "fr"
    assert subscriber.confirmed_dt == NOW and subscriber.unsubscribed_dt is None
    # The page links the one-click unsubscribe.
    unsubscribe = re.search(r'href="(/unsubscribe/[^"]+)"', done.get_data(as_text=True)).group(1)
    client.post_raw(unsubscribe)
    assert db.session.get(Subscriber, subscriber.id).unsubscribed_dt is not None


def test_a_forged_or_expired_link_confirms_nothing(app, db, client):
    subscribe(client, "reader@example.org")
    path = confirmation_path(confirmations(db)[0])
    assert client.post(path + "x").status_code == 404
    with app.test_request_context():
        assert confirm_subscription(path.rsplit("/", 1)[1], now=NOW + timedelta(days=7)) is None
    assert client.get("/subscribe/not-a-token").status_code == 404
    assert db.session.scalar(select(Subscriber)) is None


def test_an_old_link_does_not_undo_a_later_unsubscription(app, db):
    with app.test_request_context():
        token = confirmation_token("reader@example.org", "de", NOW)
        subscriber = confirm_subscription(token, now=NOW + timedelta(minutes=5))
        subscriber.unsubscribed_dt = NOW + timedelta(hours=1)
        db.session.commit()
        assert confirm_subscription(token, now=NOW + timedelta(hours=2)) is None
        # A new request after the unsubscription subscribes again.
        fresh = confirmation_token("reader@example.org", "es", NOW + timedelta(hours=3))
        again = confirm_subscription(fresh, now=NOW + timedelta(hours=4))
        assert again.id == subscriber.id and again.unsubscribed_dt is None and again.locale == "es"


def test_an_unconfirmed_address_never_receives_the_announcement(app, db, client, make_city, make_cycle):
    subscribe(client, "waiting@example.org")
    subscribe(client, "confirmed@example.org", locale="de")
    client.post(confirmation_path(confirmations(db)[1]))
    city = make_city("Lyon", country="FR")
    cycle = make_cycle(Phase.ANNOUNCED, year=2031, capital_city=city)
    queue_announcement_mail(cycle, NOW)
    db.session.commit()
    write_mailing_range(db.session.scalar(select(Mailing.id)), NOW, wake_sender=False)
    announced = {m.recipient: m for m in db.session.scalars(select(Mail).where(Mail.kind == "announcement"))}
    assert "confirmed@example.org" in announced and announced["confirmed@example.org"].locale == "de"
    assert "waiting@example.org" not in announced


def test_the_answer_is_the_same_for_a_new_a_subscribed_and_an_unsubscribed_address(app, db, client):
    db.session.add_all([Subscriber(email="known@example.org", locale="en", confirmed_dt=NOW - timedelta(days=9)),
                        Subscriber(email="gone@example.org", locale="en", confirmed_dt=NOW - timedelta(days=9),
                                   unsubscribed_dt=NOW - timedelta(days=2))])
    db.session.commit()
    answers = []
    for email in ("known@example.org", "gone@example.org", "new@example.org"):
        before = len(confirmations(db))
        response = subscribe(client, email, locale="en")
        page = client.get(response.headers["Location"])
        answers.append((response.status_code, response.headers["Location"],
                        page.status_code, page.get_data(as_text=True).replace(email, "ADDRESS")))
        assert len(confirmations(db)) == before + 1  # the same work: one confirmation mail, whoever it is
    assert answers[0] == answers[1] == answers[2]
    assert "ADDRESS" in answers[0][3]
    assert db.session.scalar(select(Subscriber).where(Subscriber.email == "new@example.org")) is None


def test_too_many_requests_get_429_with_the_wait_in_the_readers_language(app, db, client, monkeypatch):
    monkeypatch.setitem(app.config, "CAPITAL_SUBSCRIBE_LIMIT", "2 per hour")
    client.post("/language", {"locale": "fr"})
    assert subscribe(client, "reader@example.org").status_code == 302
    assert subscribe(client, "READER@example.org").status_code == 302
    sent = len(confirmations(db))
    refused = subscribe(client, "reader@example.org")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    text = refused.get_data(as_text=True)
    assert catalog("fr", "Too many attempts") in text
    assert catalog("fr", "Too many attempts. Wait %(wait)s and try again.", wait="60 minutes") in text
    assert len(confirmations(db)) == sent
    assert subscribe(client, "other@example.org").status_code == 302  # the limit is per address typed


def test_too_many_requests_from_one_client_get_429(app, db, client, monkeypatch):
    monkeypatch.setitem(app.config, "CAPITAL_SUBSCRIBE_ADDRESS_LIMIT", "3 per hour")
    for n in range(3):
        assert subscribe(client, f"reader{n}@example.org").status_code == 302
    assert subscribe(client, "reader9@example.org").status_code == 429
    assert len(confirmations(db)) == 3


def test_a_bad_address_gets_an_error_at_the_field_with_what_was_typed(app, db, client):
    response = subscribe(client, "not-an-address@")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="subscribe-email-error"' in page and 'aria-invalid="true"' in page
    assert 'value="not-an-address@"' in page
    assert 'href="#subscribe-email"' in page  # the error summary links to the field
    assert confirmations(db) == []


@pytest.mark.parametrize("path", ["/", "/archive"])
def test_home_and_archive_offer_the_form_and_a_first_time_reader_can_use_it(app, db, client, path):
    page = client.get(path).get_data(as_text=True)
    assert 'action="/subscribe"' in page and 'name="subscribe-email"' in page
    # Served from the page cache to a reader without a session: no token, the origin is checked instead.
    raw = app.test_client()
    assert raw.get(path, headers={"Accept-Language": "es"}).status_code == 200
    refused = raw.post("/subscribe", data={"subscribe-email": "a@example.org", "subscribe-locale": "es"})
    assert refused.status_code in (400, 403) and confirmations(db) == []
    accepted = raw.post("/subscribe", data={"subscribe-email": "a@example.org", "subscribe-locale": "es"},
                        headers={"Origin": "http://localhost"})
    assert accepted.status_code == 302 and confirmations(db)[0].locale == "es"
