"""The vote's mails: voting open, reminders to who has not voted, the result; and a whole cycle
driven by ticks alone, delivered over real SMTP, announcing at its embargo time and not before."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from capital.domain.nominations import NominationState
from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.domain.timeline import default_timeline
from capital.models import Cycle, Mail, Nomination, Result
from capital.services.mail import send_due_mail
from capital.services.ticks import run_tick
from capital.services.voting import cast_ballot, declare_conflict
from tests.conftest import at_once, body_html, body_text, write_group_mail
from tests.services.test_notices import catalog
from tests.services.test_shortlist import HOSTS, PUBLICATION, SHORTLIST_CLOSES, SHORTLIST_OPENS, UPDATES_CLOSE

DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


@pytest.fixture
def smtp_app(app, inbox, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", inbox.port)
    return app


def tick(db, now: datetime) -> dict:
    """A tick, then the group mail it recorded written, no sender started (delivered by hand where it matters)."""
    summary = run_tick(now)
    db.session.commit()
    write_group_mail(now)
    return summary


def mails(db, kind: str) -> dict[str, list[Mail]]:
    db.session.expire_all()
    found: dict[str, list[Mail]] = {}
    for mail in db.session.scalars(select(Mail).where(Mail.kind == kind).order_by(Mail.id)):
        found.setdefault(mail.recipient, []).append(mail)
    return found


def board(db, vote, *settings):
    """The vote's members with a mail language and time zone each: (locale, zone, email)."""
    for member, (locale, zone, email) in zip(vote.members, settings, strict=True):
        member.mail_locale, member.timezone, member.email = locale, zone, email
    db.session.commit()


def test_voting_open_goes_to_every_roll_member_in_their_language_and_zone(app, db, make_vote):
    vote = make_vote(members=4)
    board(db, vote, ("de", "Europe/Berlin", "de@board.example"), ("ar", "Africa/Cairo", "ar@board.example"),
          ("zh", "Asia/Shanghai", "zh@board.example"), ("fr", "Europe/Paris", "fr@board.example"))
    declare_conflict(vote.cycle, vote.members[3], "Mon épouse dirige le dossier de Lyon.", now=vote.OPENS - DAY)
    db.session.commit()
    tick(db, vote.OPENS - SECOND)
    assert mails(db, "voting_open") == {}
    tick(db, vote.OPENS)
    opened = mails(db, "voting_open")
    assert set(opened) == {"de@board.example", "ar@board.example", "zh@board.example", "fr@board.example"}
    [german] = opened["de@board.example"]
    assert german.locale == "de" and german.dedupe_key.endswith(":de@board.example:r1")
    assert german.subject == catalog("de", "Voting is open: Capital of Living Together %(year)s", year=2031)
    # The deadline, 20 March 2031 12:00 UTC: 13:00 in Berlin, 14:00 in Cairo, 20:00 in Beijing.
    deadline = "20. März 2031, 13:00 Uhr Ortszeit Berlin (CET, UTC+01:00)"
    assert catalog("de", "Cast your ballot before %(deadline)s:", deadline=deadline) in body_text(german)
    assert deadline in body_html(german)
    assert "http://127.0.0.1:5000/board/vote" in body_text(german)
    [arabic] = opened["ar@board.example"]
    assert '<html lang="ar" dir="rtl">' in body_html(arabic) and "UTC+02:00" in body_text(arabic)
    assert "2031年3月20日 20:00，上海时间（CST, UTC+08:00）" in body_text(opened["zh@board.example"][0])
    # The tie-break order drawn at opening, in order, by host city.
    round_ = db.session.get(Cycle, vote.cycle_id).rounds[-1]
    names = {n.id: n.host_city.name for n in vote.nominations}
    listed = [names[n] for n in round_.tie_break_order]
    assert body_text(german).index(listed[0]) < body_text(german).index(listed[1]) < body_text(german).index(listed[2])
    assert catalog("de", "Tie-break order, drawn when voting opened:") in body_text(german)
    # The member who stood aside is told so, with their reason, and gets no ballot link.
    [french] = opened["fr@board.example"]
    assert "Mon épouse dirige le dossier de Lyon." in body_text(french)
    assert "/board/vote" not in body_text(french) and "/board/vote" not in body_html(french)
    assert catalog("fr", "Reason:") in body_text(french)
    tick(db, vote.OPENS + timedelta(minutes=1))
    assert sum(map(len, mails(db, "voting_open").values())) == 4


def test_reminders_go_once_to_roll_members_who_have_not_voted(app, db, make_vote):
    vote = make_vote(members=3)
    board(db, vote, ("es", "Europe/Madrid", "es@board.example"), ("ru", "Europe/Moscow", "ru@board.example"),
          ("en", "America/New_York", "en@board.example"))
    tick(db, vote.OPENS)
    cycle = db.session.get(Cycle, vote.cycle_id)
    first = vote.ids()["Palermo"]
    cast_ballot(cycle, vote.members[0], [[first]], now=vote.OPENS + DAY)
    db.session.commit()
    tick(db, vote.CLOSES - 3 * DAY - SECOND)
    assert mails(db, "vote_reminder") == {}
    tick(db, vote.CLOSES - 3 * DAY)
    tick(db, vote.CLOSES - 3 * DAY + timedelta(hours=2))  # the same day: nothing new
    reminded = mails(db, "vote_reminder")
    assert set(reminded) == {"ru@board.example", "en@board.example"}
    [russian] = reminded["ru@board.example"]
    assert russian.subject == catalog(
        "ru", "Reminder: you have not voted yet for the Capital of Living Together %(year)s", year=2031)
    assert "15:00" in body_text(russian) and "UTC+03:00" in body_text(russian)  # 12:00 UTC in Moscow
    # Nothing about anyone else: no other member, no count of votes.
    for other in ("es@board.example", "Member 1", "Member 3"):
        assert other not in body_text(russian) and other not in body_html(russian)

    cast_ballot(cycle, vote.members[1], [[first]], now=vote.CLOSES - 2 * DAY)
    db.session.commit()
    tick(db, vote.CLOSES - DAY)
    keys = sorted(m.dedupe_key.split(":", 2)[2] for ms in mails(db, "vote_reminder").values() for m in ms)
    assert keys == ["en@board.example:r1:1d", "en@board.example:r1:3d", "ru@board.example:r1:3d"]
    tick(db, vote.CLOSES)  # voting closes: no more reminders
    tick(db, vote.CLOSES + DAY)
    assert db.session.scalar(select(func.count(Mail.id)).where(Mail.kind == "vote_reminder")) == 3
    # No mail is written when a ballot is cast: the only mails of the vote are these.
    kinds = set(db.session.scalars(select(Mail.kind)))
    assert kinds == {"voting_open", "vote_reminder", "vote_result"}


def test_the_result_goes_to_the_roll_and_the_secretariat_with_counts_only(app, db, make_vote, make_user):
    vote = make_vote(members=3)
    board(db, vote, ("de", "Europe/Berlin", "de@board.example"), ("fr", "Europe/Paris", "fr@board.example"),
          ("zh", "Asia/Shanghai", "zh@board.example"))
    vote.secretariat.mail_locale = "es"
    db.session.commit()
    tick(db, vote.OPENS)
    cycle = db.session.get(Cycle, vote.cycle_id)
    venlo = vote.ids()["Venlo"]
    receipts = [cast_ballot(cycle, member, [[venlo]], now=vote.OPENS + DAY).code for member in vote.members[:2]]
    db.session.commit()
    tick(db, vote.CLOSES)
    results = mails(db, "vote_result")
    assert set(results) == {"de@board.example", "fr@board.example", "zh@board.example", vote.secretariat.email}
    [german] = results["de@board.example"]
    assert german.subject == catalog("de", "Result of the board vote: Capital of Living Together %(year)s",
                                     year=2031)
    assert catalog("de", "Designated by the count: %(city)s", city="Venlo") in body_text(german)
    assert catalog("de", "%(cast)s of %(roll)s board members on the roll", cast=2, roll=3) in body_text(german)
    assert results[vote.secretariat.email][0].locale == "es"
    for mail in (m for ms in results.values() for m in ms):
        assert not any(code in body_text(mail) or code in body_html(mail) for code in receipts)
        # Each is greeted by their own name and reads no one else's.
        others = {member.name for member in vote.members} - {mail.recipient_name}
        assert not any(name in body_text(mail) or name in body_html(mail) for name in others)
    tick(db, vote.CLOSES + DAY)
    assert db.session.scalar(select(func.count(Mail.id)).where(Mail.kind == "vote_result")) == 4


def test_a_whole_cycle_runs_by_ticks_alone_and_announces_at_its_embargo(smtp_app, db, inbox, make_city, make_user):
    year = 2032
    timeline = default_timeline(year)
    berlin = make_city("Berlin", timezone="Europe/Berlin")
    tunis = make_city("Tunis", country="TN", timezone="Africa/Tunis")
    anna = make_user(Role.REPRESENTATIVE, city=berlin, locale="de", email="anna@berlin.example")
    make_user(Role.REPRESENTATIVE, city=tunis, locale="ar", email="amel@tunis.example")
    members = [make_user(Role.BOARD, locale=locale, email=f"{locale}@board.example",
                         now=timeline.voting_open_dt) for locale in ("fr", "zh", "ru")]
    secretary = make_user(Role.SECRETARIAT, locale="en", email="office@capital.example")
    cycle = Cycle(year=year, celebration_date=timeline.celebration_date, phase=Phase.DRAFT,
                  phase_changed_dt=timeline.nominations_open_dt - 30 * DAY, **timeline.deadlines())
    db.session.add(cycle)
    db.session.commit()
    cities = ["anna@berlin.example", "amel@tunis.example", "contact1@city.example", "contact2@city.example"]
    roll = [m.email for m in members]

    def step(now: datetime) -> list[tuple[str, str]]:
        """One tick at ``now``, its mail delivered over SMTP: what arrived, as (recipient, subject)."""
        before = len(inbox.messages)
        tick(db, now)
        send_due_mail(now)
        return sorted((m["To"], m["Subject"]) for m in inbox.messages[before:])

    def subjects(people, message, **params):
        by_locale = {"anna@berlin.example": "de", "amel@tunis.example": "ar", "contact1@city.example": "de",
                     "contact2@city.example": "ar", "fr@board.example": "fr", "zh@board.example": "zh",
                     "ru@board.example": "ru", "office@capital.example": "en"}
        return sorted((p, catalog(by_locale[p], message, year=year, **params)) for p in people)

    assert step(timeline.nominations_open_dt - SECOND) == []
    assert step(timeline.nominations_open_dt) == subjects(
        cities, "Call for nominations: Capital of Living Together %(year)s")
    # Berlin nominates Tunis; it is found eligible. Tunis files nothing: it is reminded, Berlin not.
    db.session.add(Nomination(cycle_id=cycle.id, nominating_city_id=berlin.id, host_city_id=tunis.id,
                              state=NominationState.ELIGIBLE, title="Tunis together", themes=[],
                              created_dt=timeline.nominations_open_dt, updated_dt=timeline.nominations_open_dt))
    db.session.add(Nomination(cycle_id=cycle.id, nominating_city_id=tunis.id, host_city_id=berlin.id,
                              state=NominationState.ELIGIBLE, title="Berlin together", themes=[],
                              created_dt=timeline.nominations_open_dt, updated_dt=timeline.nominations_open_dt))
    db.session.commit()
    assert step(timeline.nominations_close_dt - DAY) == []  # both cities have submitted
    assert step(timeline.nominations_close_dt) == []
    assert db.session.get(Cycle, cycle.id).phase == Phase.NOMINATIONS_CLOSED

    assert step(timeline.voting_open_dt) == subjects(roll, "Voting is open: Capital of Living Together %(year)s")
    nominations = {n.title: n.id for n in db.session.scalars(select(Nomination))}
    for member in members[:2]:
        cast_ballot(db.session.get(Cycle, cycle.id), member, [[nominations["Tunis together"]]],
                    now=timeline.voting_open_dt + DAY)
    db.session.commit()
    assert step(timeline.voting_close_dt - 3 * DAY) == subjects(
        ["ru@board.example"], "Reminder: you have not voted yet for the Capital of Living Together %(year)s")
    assert step(timeline.voting_close_dt - DAY) == subjects(
        ["ru@board.example"], "Reminder: you have not voted yet for the Capital of Living Together %(year)s")
    assert step(timeline.voting_close_dt - SECOND) == []
    assert step(timeline.voting_close_dt) == subjects(
        [*roll, secretary.email], "Result of the board vote: Capital of Living Together %(year)s")
    assert db.session.scalar(select(func.count(Result.id))) == 1

    # The embargo: not a second early.
    assert step(timeline.announcement_dt - SECOND) == []
    assert db.session.get(Cycle, cycle.id).phase == Phase.TALLIED
    assert step(timeline.announcement_dt) == subjects(
        cities, "The Capital of Living Together %(year)s is %(capital)s", capital="Tunis")
    assert db.session.get(Cycle, cycle.id).phase == Phase.ANNOUNCED
    assert step(timeline.announcement_dt + DAY) == []
    assert anna.email in {m["To"] for m in inbox.messages}
    # Calls, voting open, two reminders, results, announcements: each once.
    assert len(inbox.messages) == len({m["Message-ID"] for m in inbox.messages}) == 4 + 3 + 2 + 4 + 4


def test_a_second_round_after_a_missed_quorum_has_mails_of_its_own(app, db, make_vote):
    vote = make_vote(members=4)
    board(db, vote, ("de", "Europe/Berlin", "de@board.example"), ("fr", "Europe/Paris", "fr@board.example"),
          ("es", "Europe/Madrid", "es@board.example"), ("ru", "Europe/Moscow", "ru@board.example"))
    tick(db, vote.OPENS)
    cycle = db.session.get(Cycle, vote.cycle_id)
    cast_ballot(cycle, vote.members[0], [[vote.ids()["Lyon"]]], now=vote.OPENS + DAY)
    db.session.commit()
    tick(db, vote.CLOSES)  # one ballot of four: the quorum is missed
    [missed] = mails(db, "vote_result")["fr@board.example"]
    assert catalog("fr", "not met") in body_text(missed)
    assert catalog("fr", "The count designates no city.") in body_text(missed)
    tick(db, vote.CLOSES + SECOND)
    cycle = db.session.get(Cycle, vote.cycle_id)
    assert cycle.phase == Phase.VOTING_OPEN and len(cycle.rounds) == 2
    opened = mails(db, "voting_open")
    assert [m.dedupe_key.rsplit(":", 1)[1] for m in opened["de@board.example"]] == ["r1", "r2"]
    assert catalog("de", "Voting round %(round)s for the Capital of Living Together %(year)s is open. "
                         "You are on the voter roll.", round=2, year=2031) in body_text(opened["de@board.example"][1])
    # Who voted in the first round is reminded in the second like anyone else who has not voted there.
    tick(db, cycle.voting_close_dt - 3 * DAY)
    assert set(mails(db, "vote_reminder")) == {"de@board.example", "fr@board.example", "es@board.example",
                                               "ru@board.example"}


def test_two_ticks_at_once_remind_each_member_once(app, db, make_vote):
    vote = make_vote(members=3)
    tick(db, vote.OPENS)
    db.session.close()

    def one_tick():
        from capital.extensions import db as _db

        run_tick(vote.CLOSES - 3 * DAY)
        _db.session.commit()

    at_once(app, one_tick)
    write_group_mail(vote.CLOSES - 3 * DAY)
    assert db.session.scalar(select(func.count(Mail.id)).where(Mail.kind == "vote_reminder")) == 3
    assert db.session.scalar(select(func.count(Mail.id)).where(Mail.kind == "voting_open")) == 3


# The shortlist vote of test_shortlist.py: a shortlist of two, its vote from 20 January to 1 February 2031.
SHORTLIST = {"shortlist_size": 2, "shortlist_open_dt": SHORTLIST_OPENS, "shortlist_close_dt": SHORTLIST_CLOSES,
             "shortlist_publication_dt": PUBLICATION, "finalist_update_close_dt": UPDATES_CLOSE}


def test_the_shortlist_vote_opening_goes_to_its_roll_in_each_language_and_zone(app, db, make_vote):
    vote = make_vote(hosts=HOSTS, members=3, **SHORTLIST)
    board(db, vote, ("de", "Europe/Berlin", "de@board.example"), ("ar", "Africa/Cairo", "ar@board.example"),
          ("fr", "Europe/Paris", "fr@board.example"))
    declare_conflict(vote.cycle, vote.members[2], "Je conseille la ville de Lyon.", now=SHORTLIST_OPENS - DAY)
    db.session.commit()
    tick(db, SHORTLIST_OPENS - SECOND)
    assert mails(db, "shortlist_voting_open") == {}
    tick(db, SHORTLIST_OPENS)
    assert db.session.get(Cycle, vote.cycle_id).phase == Phase.SHORTLIST_VOTING
    opened = mails(db, "shortlist_voting_open")
    assert set(opened) == {"de@board.example", "ar@board.example", "fr@board.example"}
    [german] = opened["de@board.example"]
    assert german.locale == "de" and german.dedupe_key.endswith(":shortlist_voting_open:de@board.example:r0")
    assert german.subject == catalog("de", "The shortlist vote is open: Capital of Living Together %(year)s",
                                     year=2031)
    # Its deadline, 1 February 2031 12:00 UTC: 13:00 in Berlin, 14:00 in Cairo.
    deadline = "1. Februar 2031, 13:00 Uhr Ortszeit Berlin (CET, UTC+01:00)"
    assert catalog("de", "Cast your ballot before %(deadline)s:", deadline=deadline) in body_text(german)
    assert catalog("de", "Places on the shortlist: %(size)s", size=2) in body_text(german)
    assert "http://127.0.0.1:5000/board/shortlist" in body_text(german)
    assert 'href="http://127.0.0.1:5000/board/shortlist"' in body_html(german)
    opening = catalog("de", "The shortlist vote for the Capital of Living Together %(year)s is open. You are on the "
                            "voter roll: approve the nominations you want on the shortlist.", year=2031)
    assert opening in body_text(german)
    [arabic] = opened["ar@board.example"]
    assert '<html lang="ar" dir="rtl">' in body_html(arabic) and "UTC+02:00" in body_text(arabic)
    # The member who stands aside is told so, with their reason, and gets no ballot link.
    [french] = opened["fr@board.example"]
    assert "Je conseille la ville de Lyon." in body_text(french)
    assert "/board/shortlist" not in body_text(french) and "/board/shortlist" not in body_html(french)
    # The final vote's own mail waits for the final vote; a second tick writes nothing again.
    assert mails(db, "voting_open") == {}
    tick(db, SHORTLIST_OPENS + timedelta(minutes=1))
    assert sum(map(len, mails(db, "shortlist_voting_open").values())) == 3


def shortlist_vote_open(db, make_vote, *settings):
    """A shortlist vote of two places opened by the tick, its members' mail settings as in :func:`board`;
    the vote and its cycle."""
    vote = make_vote(hosts=HOSTS, members=len(settings), **SHORTLIST)
    board(db, vote, *settings)
    tick(db, SHORTLIST_OPENS)
    return vote, db.session.get(Cycle, vote.cycle_id)


def test_the_shortlist_count_goes_once_to_its_roll_and_the_secretariat_with_counts_only(app, db, make_vote):
    vote, cycle = shortlist_vote_open(
        db, make_vote, ("de", "Europe/Berlin", "de@board.example"), ("ar", "Africa/Cairo", "ar@board.example"),
        ("fr", "Europe/Paris", "fr@board.example"), ("en", "UTC", "en@board.example"))
    vote.secretariat.mail_locale = "ru"
    # The French member stands aside: off the roll, and so without the count's mail.
    declare_conflict(cycle, vote.members[2], "Je travaille pour Lyon.", now=SHORTLIST_OPENS + DAY)
    db.session.commit()
    ids = vote.ids()
    receipts = [cast_ballot(cycle, member, [sorted(ids[h] for h in hosts)], now=SHORTLIST_OPENS + DAY,
                            shortlist=True).code
                for member, hosts in zip(vote.members[:2], [("Venlo", "Lyon"), ("Venlo",)])]
    db.session.commit()
    tick(db, SHORTLIST_CLOSES - SECOND)
    assert mails(db, "shortlist_result") == {}
    tick(db, SHORTLIST_CLOSES)  # counted: Venlo 2, Lyon 1
    results = mails(db, "shortlist_result")
    assert set(results) == {"de@board.example", "ar@board.example", "en@board.example", vote.secretariat.email}
    assert mails(db, "vote_result") == {}
    [german] = results["de@board.example"]
    assert german.subject == catalog("de", "Count of the shortlist vote: Capital of Living Together %(year)s",
                                     year=2031)
    text = body_text(german)
    assert catalog("de", "The shortlist vote for the Capital of Living Together %(year)s has been counted.",
                   year=2031) in text
    assert catalog("de", "%(cast)s of %(roll)s board members on the roll", cast=2, roll=3) in text
    assert "- Venlo\n- Lyon\n" in text  # the finalists, in the count's order
    # Not public until the shortlist's publication, in the reader's zone: 12:00 UTC is 13:00 in Berlin.
    assert catalog("de", "Not public until %(moment)s: only the board and the secretariat see this count.",
                   moment="5. Februar 2031, 13:00 Uhr Ortszeit Berlin (CET, UTC+01:00)") in text
    assert "http://127.0.0.1:5000/board/shortlist/results" in text
    assert results[vote.secretariat.email][0].locale == "ru"
    assert catalog("ru", "The finalists:") in body_text(results[vote.secretariat.email][0])
    assert "<li>Venlo</li>" in body_html(results["ar@board.example"][0])
    for mail in (m for ms in results.values() for m in ms):
        assert not any(code in body_text(mail) or code in body_html(mail) for code in receipts)
        others = {member.name for member in vote.members} - {mail.recipient_name}
        assert not any(name in body_text(mail) or name in body_html(mail) for name in others)
    assert german.dedupe_key == f"{vote.cycle_id}:shortlist_result:de@board.example:r0"
    tick(db, SHORTLIST_CLOSES + DAY)
    tick(db, PUBLICATION)
    assert db.session.scalar(select(func.count(Mail.id)).where(Mail.kind == "shortlist_result")) == 4


def test_a_shortlist_count_without_its_quorum_says_so_and_names_no_finalist(app, db, make_vote):
    vote, cycle = shortlist_vote_open(db, make_vote, ("es", "Europe/Madrid", "es@board.example"),
                                      ("zh", "Asia/Shanghai", "zh@board.example"), ("en", "UTC", "en@board.example"))
    cast_ballot(cycle, vote.members[0], [[vote.ids()["Lyon"]]], now=SHORTLIST_OPENS + DAY, shortlist=True)
    db.session.commit()
    tick(db, SHORTLIST_CLOSES)  # one ballot of three: the quorum is half
    results = mails(db, "shortlist_result")
    [spanish] = results["es@board.example"]
    text = body_text(spanish)
    assert catalog("es", "The quorum was not met: there is no shortlist, and the cycle ends without a capital "
                         "designated.") in text
    assert catalog("es", "Not public yet: only the board and the secretariat see this count.") in text
    assert "Lyon" not in text and catalog("es", "The finalists:") not in text
    assert catalog("zh", "Quorum") in body_text(results["zh@board.example"][0])


def test_the_shortlist_reminders_go_once_to_roll_members_who_have_not_voted_in_it(app, db, make_vote):
    vote, cycle = shortlist_vote_open(db, make_vote, ("es", "Europe/Madrid", "es@board.example"),
                                      ("ru", "Europe/Moscow", "ru@board.example"),
                                      ("en", "America/New_York", "en@board.example"))
    palermo = vote.ids()["Palermo"]
    cast_ballot(cycle, vote.members[0], [[palermo]], now=SHORTLIST_OPENS + DAY, shortlist=True)
    db.session.commit()
    tick(db, SHORTLIST_CLOSES - 3 * DAY - SECOND)
    assert mails(db, "shortlist_reminder") == {}
    tick(db, SHORTLIST_CLOSES - 3 * DAY)
    tick(db, SHORTLIST_CLOSES - 3 * DAY + timedelta(hours=2))  # the same day: nothing new
    reminded = mails(db, "shortlist_reminder")
    assert set(reminded) == {"ru@board.example", "en@board.example"}
    [russian] = reminded["ru@board.example"]
    assert russian.subject == catalog(
        "ru", "Reminder: you have not voted yet in the shortlist vote for the Capital of Living Together %(year)s",
        year=2031)
    assert catalog("ru", "You have not voted yet in the shortlist vote for the Capital of Living Together "
                         "%(year)s.", year=2031) in body_text(russian)
    assert "15:00" in body_text(russian) and "UTC+03:00" in body_text(russian)  # 12:00 UTC in Moscow
    assert "http://127.0.0.1:5000/board/shortlist" in body_text(russian)
    # Nothing about anyone else: no other member, no count of votes; the final vote's reminder is not sent.
    for other in ("es@board.example", "Member 1", "Member 3"):
        assert other not in body_text(russian) and other not in body_html(russian)
    assert mails(db, "vote_reminder") == {}

    cast_ballot(cycle, vote.members[1], [[palermo]], now=SHORTLIST_CLOSES - 2 * DAY, shortlist=True)
    db.session.commit()
    tick(db, SHORTLIST_CLOSES - DAY)
    keys = sorted(m.dedupe_key.split(":", 2)[2] for ms in mails(db, "shortlist_reminder").values() for m in ms)
    assert keys == ["en@board.example:r0:1d", "en@board.example:r0:3d", "ru@board.example:r0:3d"]
    tick(db, SHORTLIST_CLOSES)  # the shortlist vote closes and is counted: no more reminders
    assert db.session.get(Cycle, vote.cycle_id).phase == Phase.SHORTLIST_COUNTED
    tick(db, SHORTLIST_CLOSES + DAY)
    assert db.session.scalar(select(func.count(Mail.id)).where(Mail.kind == "shortlist_reminder")) == 3
    # No mail is written when a ballot is cast: the only mails of the shortlist vote are these.
    assert set(db.session.scalars(select(Mail.kind))) == {"shortlist_voting_open", "shortlist_reminder",
                                                          "shortlist_result"}
