"""The timeline's mails: who gets which, once, in their language and time zone; bulk mail to subscribers."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import func, insert, select, text

from capital.domain.membership import CityStatus
from capital.domain.nominations import NominationState
from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.domain.timeline import default_timeline
from capital.models import Cycle, Mail, Mailing, MailState, Nomination, Subscriber
from capital.services.mail import build_message, mail_key, send_due_mail
from capital.services.mailings import write_mailing, write_mailing_range, write_mailing_ranges
from capital.services.notices import due_reminder_day, queue_announcement_mail
from capital.services.ticks import run_tick
from tests.conftest import at_once, body_html, body_text, write_group_mail

YEAR = 2031
TIMELINE = default_timeline(YEAR)
OPENS, CLOSES = TIMELINE.nominations_open_dt, TIMELINE.nominations_close_dt
DAY = timedelta(days=1)


def catalog(locale: str, message: str, **params) -> str:
    from babel.messages.pofile import read_po

    from capital.config import ROOT

    with (ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)[message].string % params


def received(message):
    """The message as its recipient's mail program reads it."""
    return message_from_bytes(message.as_bytes(), policy=policy.default)


@pytest.fixture
def world(db, make_city, make_user):
    """Berlin (a German representative), Cairo (an Arabic one), Lyon (contact only), an applicant
    and a suspended city, and a draft cycle for 2031."""
    berlin = make_city("Berlin", timezone="Europe/Berlin")
    cairo = make_city("القاهرة", country="EG", timezone="Africa/Cairo")
    lyon = make_city("Lyon", country="FR", timezone="Europe/Paris")
    make_city("Applicant", status=CityStatus.APPLICANT)
    make_city("Suspended", status=CityStatus.SUSPENDED)
    make_user(Role.REPRESENTATIVE, city=berlin, locale="de", email="anna@berlin.example")
    make_user(Role.REPRESENTATIVE, city=cairo, locale="ar", email="omar@cairo.example")
    make_user(Role.BOARD, city=lyon, locale="fr", email="board@lyon.example")  # not a representative
    cycle = Cycle(year=YEAR, celebration_date=TIMELINE.celebration_date, phase=Phase.DRAFT,
                  phase_changed_dt=OPENS - 30 * DAY, **TIMELINE.deadlines())
    db.session.add(cycle)
    db.session.commit()
    return {"berlin": berlin, "cairo": cairo, "lyon": lyon, "cycle": cycle}


def mails(db, kind: str) -> dict[str, Mail]:
    db.session.expire_all()
    return {m.recipient: m for m in db.session.scalars(select(Mail).where(Mail.kind == kind))}


def tick(db, now: datetime) -> dict:
    """A tick, then the group mail it recorded written (as the writer tasks it starts would)."""
    summary = run_tick(now)
    db.session.commit()
    write_group_mail(now)
    return summary


def test_opening_nominations_calls_every_member_city_in_its_language_and_time_zone(db, world):
    tick(db, OPENS - timedelta(seconds=1))
    assert mails(db, "call_for_nominations") == {}
    tick(db, OPENS)
    calls = mails(db, "call_for_nominations")
    # Representatives and contact addresses of member cities; not the applicant, the suspended city or the board.
    assert set(calls) == {"anna@berlin.example", "omar@cairo.example", "contact1@city.example",
                          "contact2@city.example", "contact3@city.example"}
    german = calls["anna@berlin.example"]
    assert german.locale == "de"
    assert german.subject == catalog("de", "Call for nominations: Capital of Living Together %(year)s", year=YEAR)
    # 16 January 2031, 12:00 UTC is 13:00 in Berlin (UTC+01:00) and 14:00 in Cairo (UTC+02:00).
    assert "16. Januar 2031, 13:00 Uhr Ortszeit Berlin (CET, UTC+01:00)" in body_text(german)
    assert "16. Januar 2031, 13:00 Uhr Ortszeit Berlin (CET, UTC+01:00)" in body_html(german)
    assert catalog("de", "Nomination deadline") in body_text(german)
    arabic = calls["omar@cairo.example"]
    assert arabic.locale == "ar" and '<html lang="ar" dir="rtl">' in body_html(arabic)
    assert "(\u2068EET, UTC+02:00\u2069)" in body_text(arabic)
    assert catalog("ar", "File the nomination here:") in body_text(arabic)
    # Lyon's contact: no representative, so English and the city's own zone.
    lyon = calls["contact3@city.example"]
    assert lyon.locale == "en" and "16 January 2031, 13:00 Paris time (CET, UTC+01:00)" in body_text(lyon)
    assert "Lyon may nominate a host city" in body_text(lyon)

    tick(db, OPENS + timedelta(minutes=1))  # a later tick writes nothing again
    assert len(mails(db, "call_for_nominations")) == 5


def test_reminders_go_on_14_3_and_1_days_to_cities_that_have_not_submitted(db, world):
    cycle = world["cycle"]
    tick(db, OPENS)
    tick(db, CLOSES - 15 * DAY)
    assert mails(db, "nomination_reminder") == {}
    tick(db, CLOSES - 14 * DAY)
    first = mails(db, "nomination_reminder")
    assert len(first) == 5 and {m.dedupe_key.rsplit(":", 1)[1] for m in first.values()} == {"14d"}
    assert first["anna@berlin.example"].subject == catalog(
        "de", "Reminder: nominations for the Capital of Living Together %(year)s close soon", year=YEAR)
    tick(db, CLOSES - 14 * DAY + timedelta(hours=5))  # same round: nothing new
    assert len(mails(db, "nomination_reminder")) == 5

    # Berlin submits; Cairo's nomination is only a draft (still reminded).
    for city, state in ((world["berlin"], NominationState.SUBMITTED), (world["cairo"], NominationState.DRAFT)):
        db.session.add(Nomination(cycle_id=cycle.id, nominating_city_id=city.id, host_city_id=city.id,
                                  state=state, title="t", themes=[], created_dt=OPENS, updated_dt=OPENS))
    db.session.commit()
    tick(db, CLOSES - 3 * DAY)
    tick(db, CLOSES - DAY + timedelta(seconds=1))
    reminders = db.session.scalars(select(Mail).where(Mail.kind == "nomination_reminder")).all()
    rounds = {}
    for mail in reminders:
        rounds.setdefault(mail.dedupe_key.rsplit(":", 1)[1], set()).add(mail.recipient)
    later = {"omar@cairo.example", "contact2@city.example", "contact3@city.example"}
    assert rounds == {"14d": set(first), "3d": later, "1d": later}
    tick(db, CLOSES)  # nominations close: no more reminders
    assert db.session.get(Cycle, cycle.id).phase == Phase.NOMINATIONS_CLOSED
    assert db.session.scalar(select(func.count(Mail.id)).where(Mail.kind == "nomination_reminder")) == 11


def test_reminder_days_are_a_cycle_setting_and_a_round_missed_in_an_outage_is_not_sent_late(db, world):
    cycle = world["cycle"]
    cycle.nomination_reminder_days = [7]
    db.session.commit()
    tick(db, OPENS)
    assert due_reminder_day(db.session.get(Cycle, cycle.id), CLOSES - 8 * DAY) is None
    tick(db, CLOSES - 7 * DAY)
    assert len(mails(db, "nomination_reminder")) == 5

    cycle.nomination_reminder_days = [14, 3, 1]
    db.session.commit()
    # Beat was down from 14 days before until 2 days before: only the 3-day round is due now.
    assert due_reminder_day(db.session.get(Cycle, cycle.id), CLOSES - 2 * DAY) == 3


def test_two_ticks_at_once_write_each_mail_once(app, db, world):
    tick(db, OPENS)
    db.session.close()

    def one_tick():
        run_tick(CLOSES - 14 * DAY)
        from capital.extensions import db as _db

        _db.session.commit()

    at_once(app, one_tick)
    write_group_mail(CLOSES - 14 * DAY)
    assert db.session.scalar(select(func.count(Mail.id)).where(Mail.kind == "nomination_reminder")) == 5
    assert db.session.scalar(select(func.count(Mail.id)).where(Mail.kind == "call_for_nominations")) == 5


# --- the announcement ----------------------------------------------------------------------------

def _subscribers(db, count: int, **overrides) -> None:
    locales = ("en", "fr", "de", "es", "ar", "zh", "ru")
    db.session.add_all(Subscriber(email=f"reader{n}@public.example", locale=locales[n % 7],
                                  confirmed_dt=datetime(2030, 1, 1, tzinfo=UTC), **overrides)
                       for n in range(count))
    db.session.commit()


def test_the_announcement_goes_to_member_cities_and_confirmed_subscribers_once(app, db, world, monkeypatch):
    monkeypatch.setitem(app.config, "MAILING_RANGE", 4)  # several transactions for a handful of subscribers
    _subscribers(db, 10)
    db.session.add_all([
        Subscriber(email="unconfirmed@public.example", locale="en"),
        Subscriber(email="gone@public.example", locale="en", confirmed_dt=datetime(2030, 1, 1, tzinfo=UTC),
                   unsubscribed_dt=datetime(2030, 2, 1, tzinfo=UTC)),
        # The city's contact is also a subscriber: one copy.
        Subscriber(email="contact1@city.example", locale="de", confirmed_dt=datetime(2030, 1, 1, tzinfo=UTC)),
    ])
    cycle = world["cycle"]
    cycle.phase, cycle.capital_city = Phase.ANNOUNCED, world["cairo"]
    now = TIMELINE.announcement_dt
    assert [m.audience for m in queue_announcement_mail(cycle, now)] == ["member_cities", "subscribers"]
    db.session.commit()
    assert queue_announcement_mail(cycle, now) == []  # announced twice: mailed once
    db.session.commit()
    db.session.info.clear()  # the writer tasks the commit would start are run by hand below, range by range

    cities, readers = db.session.scalars(select(Mailing).order_by(Mailing.id)).all()
    # Written in ranges afterwards, not in the announcing transaction.
    assert cities.written_dt is None and readers.written_dt is None and mails(db, "announcement") == {}
    assert readers.last_key == 13
    assert write_mailing_range(readers.id, now, wake_sender=False) is None  # the cities' copies come first
    # Ranges of four mails: Berlin's and Cairo's representative and contact, then Lyon's contact.
    assert [write_mailing_range(cities.id, now, wake_sender=False, start_followers=False) for _ in range(3)] == [4, 1, None]
    # Subscribers 1–4, 5–8, then 9, 10 and 13 (who already has the copy of Berlin's contact).
    assert [write_mailing_range(readers.id, now, wake_sender=False) for _ in range(4)] == [4, 4, 2, None]
    db.session.expire_all()
    assert db.session.get(Mailing, readers.id).written_dt == now

    announced = mails(db, "announcement")
    assert len(announced) == 15
    assert "unconfirmed@public.example" not in announced and "gone@public.example" not in announced
    assert announced["contact1@city.example"].subscriber_id is None  # the city's copy
    french = announced["reader1@public.example"]
    assert french.subject == catalog("fr", "The Capital of Living Together %(year)s is %(capital)s",
                                     year=YEAR, capital="القاهرة")
    message = received(build_message(french))
    link = message["List-Unsubscribe"].strip("<>")
    assert link.startswith("http://127.0.0.1:5000/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in message.get_body(("plain",)).get_content() and link in message.get_body(("html",)).get_content()
    assert "Vous recevez ce courriel" in message.get_body(("plain",)).get_content()
    assert "List-Unsubscribe" not in build_message(announced["anna@berlin.example"])


def _announced_by_hand(db, world, subscribers: int) -> datetime:
    """Berlin announced; the subscribers' mail written by hand (the writer task is not run), none sent yet."""
    _subscribers(db, subscribers)
    cycle = world["cycle"]
    cycle.phase, cycle.capital_city = Phase.ANNOUNCED, world["berlin"]
    now = TIMELINE.announcement_dt
    queue_announcement_mail(cycle, now)
    db.session.commit()
    write_group_mail(now)
    return now


def test_unsubscribing_in_one_click_stops_the_mail_already_written(app, db, client, world):
    _announced_by_hand(db, world, 2)
    mail = mails(db, "announcement")["reader0@public.example"]
    subscriber_id = mail.subscriber_id
    link = build_message(mail)["List-Unsubscribe"].strip("<>")
    path = link.removeprefix("http://127.0.0.1:5000")

    page = client.get(path)
    assert page.status_code == 200 and "reader0@public.example" in page.get_data(as_text=True)
    assert db.session.get(Subscriber, subscriber_id).unsubscribed_dt is None  # a GET changes nothing
    # What a mail provider sends (RFC 8058): a POST without a session or CSRF token.
    response = client.post_raw(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert db.session.get(Subscriber, subscriber_id).unsubscribed_dt is not None
    assert "reader0@public.example" not in mails(db, "announcement")
    assert "reader1@public.example" in mails(db, "announcement")
    assert client.get("/unsubscribe/forged-token").status_code == 404


def test_unsubscribed_before_sending_gets_nothing(app, db, world):
    now = _announced_by_hand(db, world, 3)
    # Unsubscribed straight in the table (as a race with the sender would look): the sender skips it.
    subscriber = db.session.scalar(select(Subscriber).where(Subscriber.email == "reader2@public.example"))
    subscriber.unsubscribed_dt = now
    db.session.commit()
    send_due_mail(now)
    sent = {m.recipient for m in mails(db, "announcement").values() if m.state == MailState.SENT}
    assert "reader2@public.example" not in sent and "reader0@public.example" in sent
    assert "reader2@public.example" not in mails(db, "announcement")


def test_ranges_written_at_once_commit_in_key_order(app, db, world, monkeypatch):
    """Three ranges at once, each on its own connection: while the first is held up, the two
    after it are written but not committed, so the outbox never holds a range past a gap; once
    it goes through, every subscriber has their one mail."""
    monkeypatch.setitem(app.config, "MAILING_RANGE", 3)
    monkeypatch.setitem(app.config, "MAILING_WRITERS", 3)
    _subscribers(db, 9)
    cycle = world["cycle"]
    cycle.phase, cycle.capital_city = Phase.ANNOUNCED, world["berlin"]
    now = TIMELINE.announcement_dt
    cities, readers = queue_announcement_mail(cycle, now)
    db.session.commit()
    db.session.info.clear()
    assert write_mailing(cities.id, now, start_tasks=False) == 5
    readers_id, cycle_id = readers.id, cycle.id

    # Another transaction holds the key of the first range's first mail: that range waits for it.
    holder = db.engine.connect()
    holder.execute(insert(Mail).values(
        dedupe_key=mail_key(cycle_id, "announcement", "reader0@public.example"), kind="held",
        recipient="held@example", locale="en", subject="", body_text="", body_html="", message_id="",
        state=MailState.QUEUED, attempts=0, next_attempt_dt=now, last_error="", created_dt=now))
    results = []
    writer = threading.Thread(target=lambda: results.append(_in_app(app, write_mailing_ranges, readers_id, now, 3)))
    writer.start()

    def waiting() -> int:
        """Ranges written and waiting for the range before them to commit."""
        with db.engine.connect() as connection:
            return connection.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
                " AND query LIKE 'SELECT pg_advisory_xact_lock_shared%%'"))

    try:
        deadline = time.monotonic() + 30
        while waiting() < 2 and time.monotonic() < deadline:  # ranges two and three wait for the one before
            time.sleep(0.05)
        assert waiting() == 2
        # Nothing of the three ranges is seen meanwhile, and the cursor has not moved.
        assert not [m for m in mails(db, "announcement").values() if m.subscriber_id is not None]
        assert db.session.get(Mailing, readers_id, populate_existing=True).next_key == 0
    finally:
        holder.rollback()  # the held key is let go: the first range commits, then the second, then the third
        holder.close()
        writer.join(timeout=30)
    assert results == [9]
    announced = mails(db, "announcement")
    readers_mail = sorted(m.recipient for m in announced.values() if m.subscriber_id is not None)
    assert readers_mail == sorted(f"reader{n}@public.example" for n in range(9))
    assert db.session.scalar(select(func.count(Mail.id)).where(Mail.mailing_id == readers_id)) == 9
    mailing = db.session.get(Mailing, readers_id, populate_existing=True)
    assert mailing.next_key == mailing.last_key and mailing.written_dt == now


def _in_app(app, function, *args):
    with app.app_context():
        return function(*args)
