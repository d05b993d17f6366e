"""A realistic demonstration data set, drawn from the Düsseldorf Declaration documents."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlalchemy import select

from capital.domain.membership import CityStatus, SignatureForm
from capital.domain.phase import Phase
from capital.domain.roles import Role
from capital.domain.timeline import celebration_day, default_timeline, next_cycle_year
from capital.extensions import db
from capital.models import City, Cycle, DeclarationSignature, User
from capital.services import accounts
from capital.services.audit import record

DEMO_PASSWORD = "living-together-16-may"

# Cities that took part in the Montréal (2015) and Düsseldorf (2019) summits, or that the
# 2019 report names; (native name, Latin name, ISO country, time zone, contact, population,
# how it signed the Declaration, signatory).
CITIES = [
    ("Düsseldorf", "Dusseldorf", "DE", "Europe/Berlin", "vivre-ensemble@duesseldorf.example", 620_000,
     SignatureForm.COMMITTED, "Thomas Geisel"),
    ("Montréal", "Montreal", "CA", "America/Toronto", "vivre-ensemble@montreal.example", 1_760_000,
     SignatureForm.ACKNOWLEDGED, "Magda Popeanu"),
    ("Córdoba", "Cordoba", "ES", "Europe/Madrid", "convivencia@cordoba.example", 320_000,
     SignatureForm.COMMITTED, None),
    ("New York", "New York", "US", "America/New_York", "living-together@nyc.example", 8_300_000,
     SignatureForm.ACKNOWLEDGED, None),
    ("Palermo", "Palermo", "IT", "Europe/Rome", "convivenza@palermo.example", 630_000,
     SignatureForm.COMMITTED, None),
    ("Venlo", "Venlo", "NL", "Europe/Amsterdam", "samenleven@venlo.example", 100_000,
     SignatureForm.COMMITTED, None),
    ("Paris", "Paris", "FR", "Europe/Paris", "vivre-ensemble@paris.example", 2_100_000,
     SignatureForm.ACKNOWLEDGED, None),
    ("Lyon", "Lyon", "FR", "Europe/Paris", "vivre-ensemble@lyon.example", 520_000,
     SignatureForm.COMMITTED, None),
    ("Bruxelles", "Brussels", "BE", "Europe/Brussels", "vivre-ensemble@bruxelles.example", 1_200_000,
     SignatureForm.ACKNOWLEDGED, None),
    ("Bamako", "Bamako", "ML", "Africa/Bamako", "vivre-ensemble@bamako.example", 2_800_000,
     SignatureForm.COMMITTED, None),
    ("تونس", "Tunis", "TN", "Africa/Tunis", "vivre-ensemble@tunis.example", 640_000,
     SignatureForm.ACKNOWLEDGED, None),
    ("Mostaganem", "Mostaganem", "DZ", "Africa/Algiers", "vivre-ensemble@mostaganem.example", 150_000,
     SignatureForm.COMMITTED, None),
]

USERS = [
    ("secretariat@capital.example", "Sofia Secretariat", Role.SECRETARIAT, None, "en"),
    ("board@capital.example", "Bruno Board", Role.BOARD, "Montreal", "fr"),
    ("representative@capital.example", "Renate Representative", Role.REPRESENTATIVE, "Dusseldorf", "de"),
]


def load_demo(now: datetime) -> dict:
    """Create the demo data once; running it again changes nothing. Returns what to print."""
    actor = "cli"
    summit_day = date(2019, 8, 31)
    cities = {}
    for name, latin, country, zone, email, population, form, signatory in CITIES:
        city = db.session.scalar(select(City).where(City.name_latin == latin))
        if city is None:
            city = City(name=name, name_latin=latin, country_code=country, timezone=zone, contact_email=email,
                        population=population, status=CityStatus.MEMBER, created_dt=now)
            city.signatures.append(DeclarationSignature(
                form=form, signed_on=summit_day, place="Düsseldorf",
                signatory_name=signatory or f"{latin} delegation",
                signatory_title="Mayor" if form == SignatureForm.COMMITTED else "Representative",
            ))
            db.session.add(city)
            db.session.flush()
            record("city.created", city, actor=actor, now=now)
        cities[latin] = city

    credentials = []
    for email, name, role, city_key, locale in USERS:
        user = User.by_email(email)
        if user is None:
            user = User(email=email, name=name, locale=locale, password_hash=accounts.hash_password(DEMO_PASSWORD),
                        city_id=cities[city_key].id if city_key else None, created_dt=now)
            db.session.add(user)
            db.session.flush()
            if role == Role.BOARD:
                accounts.add_board_term(user, date(now.year - 1, 1, 1), date(now.year + 2, 12, 31), actor=actor, now=now)
            accounts.grant_role(user, role, actor=actor, now=now)
        credentials.append((role, email, DEMO_PASSWORD))

    if db.session.scalar(select(Cycle).where(Cycle.year == 2019)) is None:
        archive = Cycle(year=2019, celebration_date=celebration_day(2019), phase=Phase.ANNOUNCED,
                        capital_city_id=cities["Cordoba"].id, phase_changed_dt=now, created_dt=now)
        db.session.add(archive)
        db.session.flush()
        record("cycle.archived", archive, actor=actor, now=now, cycle_id=archive.id)

    year = next_cycle_year(now.date())
    if db.session.scalar(select(Cycle).where(Cycle.year == year)) is None:
        timeline = default_timeline(year)
        if timeline.nominations_close_dt <= now:
            # Late in the season: keep the demo useful with a short, still-open call.
            timeline = _compressed(timeline, now)
        cycle = Cycle(year=year, celebration_date=timeline.celebration_date, phase=Phase.NOMINATIONS_OPEN,
                      phase_changed_dt=now, created_dt=now, **timeline.deadlines())
        db.session.add(cycle)
        db.session.flush()
        record("cycle.nominations_opened", cycle, actor=actor, now=now, cycle_id=cycle.id)
    db.session.flush()
    return {"credentials": credentials, "year": year}


def _compressed(timeline, now: datetime):
    left = datetime.combine(timeline.celebration_date, datetime.min.time(), tzinfo=now.tzinfo) - now
    step = left / 6
    return replace(timeline, nominations_open_dt=now - timedelta(days=1), nominations_close_dt=now + step,
                   voting_open_dt=now + 2 * step, voting_close_dt=now + 3 * step, announcement_dt=now + 4 * step)
