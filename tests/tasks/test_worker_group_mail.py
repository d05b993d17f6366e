"""Group mail at scale, through real workers: the announcement to 2 000 recipients of member cities,
in seven languages and five time zones (docs/mail.md).

The secretariat's announcing request records the mailing and writes no mail; a worker writes it in
ranges; a worker killed between two ranges leaves the cursor after the last range it committed, and
the next worker goes on from there with no duplicate and no gap; every mail is in its recipient's
language, dated in their time zone and greeted by their name. The test has its own redis, workers and
(unanswered) SMTP port, so killing a worker harms nothing else on the machine.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale, gettext
from markupsafe import escape
from sqlalchemy import insert, select, text

from capital.domain.localisation import LOCALES, RTL_LOCALES
from capital.domain.membership import CityStatus
from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.extensions import db as _db
from capital.models import City, Cycle, Mail, Mailing, RoleGrant, User
from capital.models.types import utcnow
from capital.services.cycles import change_phase
from capital.services.mail import build_message, mail_bodies
from capital.services.voting import cast_ballot
from tests.conftest import WebClient, free_port
from tests.tasks.test_worker import wait_for
from tests.tasks.test_worker_mail import app_on, own_redis, own_worker, run_tick
from tests.web.test_query_counts import counted

pytestmark = pytest.mark.redis

ZONES = ("Europe/Berlin", "America/New_York", "Asia/Shanghai", "Africa/Cairo", "America/Sao_Paulo")
NAMES = ("Anna", "Омар", "李华", "Zoë <&> Ö", "ليلى")
CITIES, REPRESENTATIVES = 400, 4  # with each city's contact address: 2 000 recipients
RANGE = 100  # mails per range: the announcement is twenty ranges


@dataclass(frozen=True)
class Recipient:
    key: int  # the city whose range the mail is written in
    locale: str
    timezone: str
    name: str


def _population(db) -> None:
    """400 member cities in five zones, each with four representatives (one inactive more in the first)."""
    now = utcnow()
    city_ids = db.session.scalars(insert(City).returning(City.id), [
        dict(name=f"Ville {n}", name_latin=f"Ville {n}", country_code="FR", timezone=ZONES[n % len(ZONES)],
             contact_email=f" Office{n}@Ville{n}.example ", status=CityStatus.MEMBER, created_dt=now)
        for n in range(CITIES)]).all()
    people = [dict(email=f"rep{k}@ville{n}.example", name=f"{NAMES[(n + k) % len(NAMES)]} {n}-{k}",
                   # The mail language is the person's own, apart from the interface's; the last of
                   # each city's four has a time zone of their own, the others their city's.
                   mail_locale=LOCALES[(n * REPRESENTATIVES + k) % len(LOCALES)],
                   locale=LOCALES[(n * REPRESENTATIVES + k + 3) % len(LOCALES)],
                   timezone=ZONES[(n + 2) % len(ZONES)] if k == REPRESENTATIVES - 1 else None,
                   city_id=city_id, is_active_account=True, session_generation=0, created_dt=now)
              for n, city_id in enumerate(city_ids) for k in range(REPRESENTATIVES)]
    people.append(dict(people[0], email="gone@ville0.example", is_active_account=False))
    user_ids = db.session.scalars(insert(User).returning(User.id), people).all()
    db.session.execute(insert(RoleGrant), [dict(user_id=user_id, role=Role.REPRESENTATIVE, granted_dt=now)
                                           for user_id in user_ids])
    db.session.commit()


def _expected(db) -> dict[str, Recipient]:
    """Who the announcement goes to, worked out here from the rules, not by the audience's query:
    each member city's active representatives, then its contact address unless that is one of them."""
    found: dict[str, Recipient] = {}
    for city in db.session.scalars(select(City).where(City.status == CityStatus.MEMBER).order_by(City.id)):
        people = [user for user in db.session.scalars(select(User).where(User.city_id == city.id).order_by(User.id))
                  if user.is_active_account and user.has_role(Role.REPRESENTATIVE)]
        for user in people:
            found[user.email] = Recipient(city.id, user.mail_language, user.timezone or city.timezone, user.name)
        found.setdefault(city.contact_email.strip().lower(),
                         Recipient(city.id, people[0].mail_language if people else "en", city.timezone, ""))
    return found


def _announcement_mails(db) -> list[Mail]:
    db.session.rollback()  # a fresh transaction sees what the workers committed
    return db.session.scalars(select(Mail).where(Mail.kind == "announcement").order_by(Mail.id)).all()


def _inserting_mail(db, *, waiting: bool) -> bool:
    """A backend (a worker's) inserting a range of mails; with ``waiting``, blocked on a lock."""
    condition = "datname = current_database() AND query LIKE 'INSERT INTO mails%%'"
    if waiting:
        condition += " AND wait_event_type = 'Lock'"
    with db.engine.connect() as connection:
        return bool(connection.scalar(text(f"SELECT count(*) FROM pg_stat_activity WHERE {condition}")))


def _held(db):
    """A transaction holding the outbox: a writer's next INSERT waits for it (reads go on)."""
    connection = db.engine.connect()
    connection.begin()
    connection.execute(text("LOCK TABLE mails IN EXCLUSIVE MODE"))
    return connection


def test_the_announcement_to_2000_recipients_is_written_in_ranges_and_survives_a_killed_worker(
        app, db, tmp_path, make_vote):
    now = utcnow().replace(microsecond=0)
    vote = make_vote(members=3, terms=(now.date() - timedelta(days=365), now.date() + timedelta(days=365)))
    _population(db)
    vote.open(now)
    cycle = db.session.get(Cycle, vote.cycle_id)
    for member in vote.members[:2]:
        cast_ballot(cycle, member, [[vote.ids()["Venlo"]]], now=now)
    db.session.commit()
    vote.close(now)
    change_phase(cycle, Phase.TALLIED, actor=vote.secretariat, now=now, by_hand=True)
    db.session.commit()
    expected = _expected(db)
    assert len(expected) >= 2000 and {r.locale for r in expected.values()} == set(LOCALES)
    assert {r.timezone for r in expected.values()} >= set(ZONES)

    # Read now: inside the other app, this session would take its connections from that app's pool.
    office, cycle_id, year = vote.secretariat.email, vote.cycle_id, cycle.year
    redis_port, smtp_port = free_port(), free_port()  # no SMTP server: what is written stays unsent
    broker = f"redis://127.0.0.1:{redis_port}/0"
    settings = {"CAPITAL_MAILING_RANGE": str(RANGE)}
    with own_redis(redis_port, tmp_path), app_on(broker, tmp_path / "app", smtp_port) as other:
        hold = _held(_db)
        with own_worker(other, tmp_path / "first", broker, smtp_port, **settings) as (first, process):
            secretariat = WebClient(other.test_client())
            secretariat.login(office)
            with counted(_db) as statements:
                response = secretariat.post(f"/secretariat/cycles/{cycle_id}/phase/announced")
            assert response.status_code == 302
            # The request changed the phase, designated the capital and recorded the mailings: it
            # wrote no mail and rendered no part, in a few statements whatever the number of recipients.
            assert not any(s.lstrip().startswith(("INSERT INTO mails", "INSERT INTO mailing_parts"))
                           for s in statements)
            assert len(statements) < 100

            # The worker's first range waits for the held outbox; let it through and hold the next.
            wait_for(lambda: _inserting_mail(_db, waiting=True), 30, "the worker to write its first range")
            again = _db.engine.connect()
            hold.rollback()
            again.begin()
            again.execute(text("LOCK TABLE mails IN EXCLUSIVE MODE"))  # granted once that range is committed
            wait_for(lambda: _inserting_mail(_db, waiting=True), 30, "the worker to start a later range")
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            again.rollback()
            again.close()
            hold.close()
        wait_for(lambda: not _inserting_mail(_db, waiting=False), 30, "the killed worker's range to be rolled back")

        # Between two ranges: the cursor stands after the last one committed, and exactly its
        # recipients have their mail.
        written = _announcement_mails(_db)
        mailing = _db.session.scalar(select(Mailing).where(Mailing.kind == "announcement",
                                                           Mailing.audience == "member_cities"))
        assert mailing.written_dt is None and 0 < len(written) < len(expected)
        assert {m.recipient for m in written} == {email for email, r in expected.items() if r.key <= mailing.next_key}

        with own_worker(other, tmp_path / "second", broker, smtp_port, **settings) as (second, _):
            run_tick(other, second, now + timedelta(minutes=1))  # the tick gives the mailing a writer again

    mails = _announcement_mails(db)
    assert db.session.get(Mailing, mailing.id).written_dt is not None
    assert len(mails) == len({m.recipient for m in mails}) == len(expected)
    assert {m.recipient for m in mails} == set(expected)
    announced = db.session.get(Cycle, cycle_id).announcement_dt
    assert len({m.created_dt for m in mails}) == 1  # the mailing's time, whichever range wrote them
    words = _words(capital="Venlo", year=year)
    for mail in mails:
        _check_text(mail, expected[mail.recipient], announced, words)
    # And as sent: one whole message of each language and zone.
    for mail in {(m.locale, expected[m.recipient].timezone): m for m in mails}.values():
        message = message_from_bytes(build_message(mail).as_bytes(), policy=policy.default)
        assert (message["Content-Language"], message["Subject"]) == (mail.locale, words[mail.locale]["subject"])
        assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == mail_bodies(mail)[0]


def _words(**params) -> dict[str, dict[str, str]]:
    """Per language: the subject, the greeting (``{name}`` for the name) and a sentence of the mail."""
    words = {}
    for locale in LOCALES:
        with force_locale(locale):
            words[locale] = {
                "subject": gettext("The Capital of Living Together %(year)s is %(capital)s", **params),
                "named": gettext("Hello %(name)s,", name="{name}"), "unnamed": gettext("Hello,"),
                "link": gettext("Read the announcement:")}
    return words


def _check_text(mail: Mail, recipient: Recipient, announced, words: dict) -> None:
    """``mail`` as its recipient receives it: their language, their zone's offset, their name."""
    body, markup = mail_bodies(mail)
    said = words[recipient.locale]
    name = f"\u2068{recipient.name}\u2069" if recipient.locale in RTL_LOCALES else recipient.name
    greeting = said["named"].replace("{name}", name) if recipient.name else said["unnamed"]
    assert (mail.locale, mail.subject) == (recipient.locale, said["subject"])
    assert f'<html lang="{recipient.locale}"' in markup
    assert greeting in body and str(escape(greeting)) in markup, (mail.recipient, greeting)
    assert said["link"] in body
    offset = announced.astimezone(ZoneInfo(recipient.timezone)).strftime("%z")
    assert f"UTC{offset[:3]}:{offset[3:]}" in body, (mail.recipient, recipient.timezone)
