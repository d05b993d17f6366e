"""A realistic demonstration data set, drawn from the Düsseldorf Declaration documents."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlalchemy import select

from capital.domain.dossier import BudgetRange, Theme
from capital.domain.membership import CityStatus, SignatureForm
from capital.domain.nominations import NominationState
from capital.domain.phase import Phase, present_deadlines
from capital.domain.roles import Role
from capital.domain.timeline import celebration_day, default_timeline, next_cycle_year
from capital.extensions import db
from capital.models import City, Cycle, DeclarationSignature, Nomination, User
from capital.services import accounts, criteria, factors
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

# Where each demo city is (latitude, longitude in decimal degrees), for the archive's map.
COORDINATES = {
    "Dusseldorf": (51.2277, 6.7735), "Montreal": (45.5019, -73.5674), "Cordoba": (37.8882, -4.7794),
    "New York": (40.7128, -74.0060), "Palermo": (38.1157, 13.3615), "Venlo": (51.3704, 6.1724),
    "Paris": (48.8566, 2.3522), "Lyon": (45.7640, 4.8357), "Brussels": (50.8503, 4.3517),
    "Bamako": (12.6392, -8.0029), "Tunis": (36.8065, 10.1815), "Mostaganem": (35.9312, 0.0891),
}

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
        if city.latitude is None and latin in COORDINATES:
            city.latitude, city.longitude = COORDINATES[latin]
        cities[latin] = city

    credentials, app_keys = [], []
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
        if factors.required_for(user) and not factors.has_second_factor(user):
            factors.give_app(user, factors.new_totp_secret(), actor=actor, now=now)
        credentials.append((role, email, DEMO_PASSWORD))
        if (key := factors.totp_secret(user)) is not None:
            app_keys.append((email, key))

    if db.session.scalar(select(Cycle).where(Cycle.year == 2019)) is None:
        archive = Cycle(year=2019, celebration_date=celebration_day(2019), phase=Phase.ANNOUNCED,
                        capital_city_id=cities["Cordoba"].id, phase_changed_dt=now, created_dt=now)
        db.session.add(archive)
        db.session.flush()
        record("cycle.archived", archive, actor=actor, now=now, cycle_id=archive.id)

    year = next_cycle_year(now.date())
    if db.session.scalar(select(Cycle).where(Cycle.year == year)) is None:
        timeline = default_timeline(year, has_assessment=True, has_shortlist=True)
        if timeline.nominations_close_dt <= now:
            # Late in the season: keep the demo useful with a short, still-open call.
            timeline = _compressed(timeline, now)
        cycle = Cycle(year=year, celebration_date=timeline.celebration_date, phase=Phase.NOMINATIONS_OPEN,
                      phase_changed_dt=now, created_dt=now, has_assessment=True, shortlist_size=DEMO_SHORTLIST_SIZE,
                      **timeline.deadlines())
        db.session.add(cycle)
        db.session.flush()
        criteria.give_criteria(cycle)
        record("cycle.nominations_opened", cycle, actor=actor, now=now, cycle_id=cycle.id)
    db.session.flush()
    return {"credentials": credentials, "year": year, "app_keys": app_keys}


def _compressed(timeline, now: datetime):
    """``timeline``, stages and all, moved between ``now`` and the celebration: nominations opened
    yesterday, and the deadlines after it evenly spaced, the announcement two steps before 16 May."""
    later = present_deadlines(timeline)[1:]
    step = (timeline.celebration_starts - now) / (len(later) + 2)
    return replace(timeline, nominations_open_dt=now - timedelta(days=1),
                   **{name: now + step * (number + 1) for number, name in enumerate(later)})


# --- the vote, through the real services (`capital demo --through PHASE`) ---------------------

THROUGH = ("nominations", "assessed", "shortlist-voting", "shortlisted", "voting", "tallied", "announced")

# The demo cycle's shortlist: three finalists of the five nominations.
DEMO_SHORTLIST_SIZE = 3

# The invited expert who assesses the dossiers beside the seven board members.
DEMO_EXPERT = ("expert@capital.example", "Esperanza Experta", "es")

# (nominating and host city, title, theme, expected participants, budget) — each city hosts its own.
DEMO_NOMINATIONS = [
    ("Palermo", "Palermo, a city of many shores", Theme.INCLUSIVE, 15_000, BudgetRange.FROM_100K_TO_250K),
    ("Venlo", "Venlo: neighbours across the border", Theme.CONNECTIVE, 6_000, BudgetRange.FROM_50K_TO_100K),
    ("Lyon", "Lyon, Fête du vivre-ensemble", Theme.COMMUNICATIVE, 20_000, BudgetRange.FROM_100K_TO_250K),
    ("Bamako", "Bamako, la paix en musique", Theme.RESILIENT, 12_000, BudgetRange.FROM_10K_TO_50K),
    ("Tunis", "تونس: مدينة العيش المشترك", Theme.HEALTHY, 9_000, BudgetRange.FROM_50K_TO_100K),
]
# Seven board members who cast their ballots in the demo (the demo's own board member,
# board@capital.example, is left to try the ballots); best first, "=" for equal ranks. In the
# shortlist vote each approves the first three cities of their ranking: Palermo 7, Lyon 6,
# Venlo 3, Bamako 2, Tunis 2 approvals, so these seven ballots make Palermo, Lyon and Venlo the
# finalists whatever the tie-break order; the final ballots are these rankings among the finalists.
DEMO_VOTERS = [
    ("Amina Board", "Paris", "Palermo > Lyon > Venlo"),
    ("Carlos Board", "Brussels", "Lyon > Palermo = Bamako"),
    ("Dana Board", "New York", "Palermo > Tunis > Lyon > Venlo > Bamako"),
    ("Elif Board", "Mostaganem", "Tunis > Palermo"),
    ("Farid Board", "Cordoba", "Palermo = Lyon > Venlo"),
    ("Greta Board", "Dusseldorf", "Venlo > Palermo > Lyon"),
    ("Hiroshi Board", "Montreal", "Bamako > Palermo > Lyon"),
]


def demo_pdf() -> bytes:
    """A real one-page PDF, standing for a mayor's signed letter."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def run_demo_vote(through: str, now: datetime) -> dict:
    """Take the demo cycle up to ``through`` (one of THROUGH) through the real services; a step
    already taken is skipped, so running it again changes nothing. Returns what to print."""
    from capital.services import cycles, nominations, voting

    if through not in THROUGH:
        raise ValueError(f"through must be one of {', '.join(THROUGH)}")
    summary = load_demo(now)
    target = THROUGH.index(through)
    cycle = db.session.scalar(select(Cycle).where(Cycle.year == summary["year"]))
    secretariat = User.by_email(USERS[0][0])
    credentials = list(summary["credentials"])
    cities = {c.name_latin: c for c in db.session.scalars(select(City))}
    reps = {}
    for latin, *_ in DEMO_NOMINATIONS:
        email = f"representative-{latin.lower()}@capital.example"
        reps[latin] = _demo_user(email, f"{latin} Representative", Role.REPRESENTATIVE, cities[latin], now)
        credentials.append((Role.REPRESENTATIVE, email, DEMO_PASSWORD))
    voters = []
    for name, city, _ in DEMO_VOTERS:
        email = f"{name.split()[0].lower()}.board@capital.example"
        voters.append(_demo_user(email, name, Role.BOARD, cities[city], now))
        credentials.append((Role.BOARD, email, DEMO_PASSWORD))
    expert = _demo_user(DEMO_EXPERT[0], DEMO_EXPERT[1], Role.ASSESSOR, None, now, locale=DEMO_EXPERT[2])
    credentials.append((Role.ASSESSOR, DEMO_EXPERT[0], DEMO_PASSWORD))

    if cycle.phase == Phase.NOMINATIONS_OPEN:
        taken = set(db.session.scalars(select(Nomination.nominating_city_id).where(Nomination.cycle_id == cycle.id)))
        for latin, title, theme, participants, budget in DEMO_NOMINATIONS:
            city = cities[latin]
            if city.id in taken:
                continue
            nomination = nominations.start_nomination(cycle, city, city, actor=reps[latin], now=now)
            nominations.save_dossier(nomination, nominations.DossierInput(
                title=title, texts={"en": (f"{title}: a day of open doors, shared meals and music.",
                                           "Morning: open houses of worship. Noon: a long table. Evening: a concert.")},
                themes={theme}, expected_participants=participants, partners="Schools, neighbourhood councils",
                budget_range=budget), actor=reps[latin], now=now)
            nominations.attach_file(nomination, "letter", "letter.pdf", demo_pdf(), actor=reps[latin], now=now)
            nominations.submit_nomination(nomination, actor=reps[latin], now=now)
    if target >= THROUGH.index("assessed"):
        if cycle.phase == Phase.NOMINATIONS_OPEN:
            cycles.close_nominations(cycle, actor=secretariat, now=now)
        for nomination in db.session.scalars(select(Nomination).where(
                Nomination.cycle_id == cycle.id, Nomination.state == NominationState.SUBMITTED)):
            nominations.decide_eligibility(nomination, eligible=True, reason="", actor=secretariat, now=now)
        if cycle.phase == Phase.NOMINATIONS_CLOSED and cycle.has_assessment:
            cycles.change_phase(cycle, Phase.ASSESSMENT, actor=secretariat, now=now, by_hand=True)
        if cycle.phase == Phase.ASSESSMENT:
            _assess(cycle, voters, expert, now)
            cycles.change_phase(cycle, Phase.ASSESSED, actor=secretariat, now=now, by_hand=True)
    if target >= THROUGH.index("shortlist-voting") and cycle.shortlist_size:
        if cycle.phase == Phase.ASSESSED:
            cycles.change_phase(cycle, Phase.SHORTLIST_VOTING, actor=secretariat, now=now, by_hand=True)
        if cycle.phase == Phase.SHORTLIST_VOTING:
            for user, (_, _, ranking) in zip(voters, DEMO_VOTERS, strict=True):
                if not voting.has_voted(cycle, user, shortlist=True):
                    approved = [n for group in _ballot_groups(cycle, ranking, shortlist=True) for n in group]
                    voting.cast_ballot(cycle, user, (tuple(approved[:cycle.shortlist_size]),), now=now,
                                       shortlist=True)
    if target >= THROUGH.index("shortlisted"):
        if cycle.phase == Phase.SHORTLIST_VOTING:
            cycles.change_phase(cycle, Phase.SHORTLIST_COUNTED, actor=secretariat, now=now, by_hand=True)
        if cycle.phase == Phase.SHORTLIST_COUNTED:
            cycles.change_phase(cycle, Phase.SHORTLISTED, actor=secretariat, now=now, by_hand=True)
    if target >= THROUGH.index("voting"):
        if cycle.phase in (Phase.NOMINATIONS_CLOSED, Phase.ASSESSED, Phase.SHORTLISTED):
            cycles.open_voting(cycle, actor=secretariat, now=now)
        if cycle.phase == Phase.VOTING_OPEN:
            for user, (_, _, ranking) in zip(voters, DEMO_VOTERS, strict=True):
                if not voting.has_voted(cycle, user):
                    voting.cast_ballot(cycle, user, _ballot_groups(cycle, ranking), now=now)
    if target >= THROUGH.index("tallied"):
        if cycle.phase == Phase.VOTING_OPEN:
            cycles.close_voting(cycle, actor=secretariat, now=now)
        if cycle.phase == Phase.VOTING_CLOSED:
            cycles.change_phase(cycle, Phase.TALLIED, actor=secretariat, now=now, by_hand=True)
    if target >= THROUGH.index("announced") and cycle.phase == Phase.TALLIED:
        _demo_report(cycle, secretariat, voters[0], now)  # written before the announcement, which mails it
        cycles.change_phase(cycle, Phase.ANNOUNCED, actor=secretariat, now=now, by_hand=True)
    db.session.flush()
    return {"credentials": credentials, "year": cycle.year, "phase": cycle.phase, "app_keys": summary["app_keys"]}


def _ballot_groups(cycle: Cycle, ranking: str, *, shortlist: bool = False) -> tuple[tuple[int, ...], ...]:
    """A demo ranking ("Palermo > Lyon = Venlo") as nomination ids, best first, among the nominations
    on the current round's ballot (the finalists, once there is a shortlist)."""
    from capital.services import voting

    on_ballot = voting.current_round(cycle, shortlist=shortlist).tie_break_order
    ids = {n.host_city.name_latin: n.id for n in db.session.scalars(
        select(Nomination).where(Nomination.cycle_id == cycle.id, Nomination.id.in_(on_ballot)))}
    groups = (tuple(ids[name] for name in map(str.strip, group.split("=")) if name in ids)
              for group in ranking.split(">"))
    return tuple(group for group in groups if group)


# The demo's jury report, in English and French: the winner's name is put in.
DEMO_CITATION = {
    "en": "{city} has made living together a daily practice: its squares, schools and houses of worship open "
          "their doors to one another all year, not only on 16 May.\n\nThe board salutes a programme built with "
          "its neighbourhoods, in which every resident can take part, whatever their language or belief.",
    "fr": "{city} a fait du vivre-ensemble une pratique quotidienne : ses places, ses écoles et ses lieux de culte "
          "s’ouvrent les uns aux autres toute l’année, pas seulement le 16 mai.\n\nLe conseil salue un programme "
          "construit avec ses quartiers, auquel chaque habitant peut prendre part, quelles que soient sa langue et "
          "ses convictions.",
}
DEMO_FINALIST_NOTE = {"en": "A strong programme, close behind the capital.",
                      "fr": "Un programme solide, tout près de la capitale."}
# The reasons against each of the default criteria, in their order (capital.domain.criteria).
DEMO_REASONS = (
    {"en": "Its squares and markets were redesigned with the residents who use them.",
     "fr": "Ses places et ses marchés ont été réaménagés avec les habitants qui les fréquentent."},
    {"en": "Its health centres reach every district, the poorest first.",
     "fr": "Ses centres de santé desservent chaque quartier, les plus pauvres d’abord."},
    {"en": "Its neighbourhood councils kept the city together through floods and heat waves.",
     "fr": "Ses conseils de quartier ont tenu la ville unie face aux crues et aux canicules."},
    {"en": "Residents propose and choose projects on an open platform, and many do.",
     "fr": "Les habitants proposent et choisissent des projets sur une plateforme ouverte, et ils sont "
           "nombreux à le faire."},
    {"en": "Newcomers are welcomed in their own languages, and its schools teach many.",
     "fr": "Les nouveaux venus sont accueillis dans leur langue, et ses écoles en enseignent beaucoup."},
    {"en": "The programme, budget and partners are in place, with a team that has hosted such days before.",
     "fr": "Le programme, le budget et les partenaires sont prêts, avec une équipe qui a déjà accueilli de "
           "telles journées."},
    {"en": "Twin cities on three continents will follow the day and hold their own celebrations.",
     "fr": "Des villes jumelles sur trois continents suivront la journée et tiendront leurs propres célébrations."},
)


def _demo_report(cycle: Cycle, secretariat: User, rapporteur: User, now: datetime) -> None:
    """The rapporteur writes the demo's jury report in English, then French (once), with reasons
    against each of the cycle's criteria."""
    from capital.services import reports, voting

    if reports.current_texts(reports.report_of(cycle)):
        return
    reports.assign_rapporteur(cycle, rapporteur, actor=secretariat, now=now)
    result = voting.latest_result(cycle)
    winner = db.session.get(Nomination, result.winner_nomination_id)
    notes = [n.id for n in reports.other_finalists(cycle)][:1]
    reasons = list(zip(criteria.cycle_criteria(cycle), DEMO_REASONS))
    for locale in ("en", "fr"):
        reports.save_report(cycle, locale, DEMO_CITATION[locale].format(city=winner.host_city.name),
                            {n: DEMO_FINALIST_NOTE[locale] for n in notes}, actor=rapporteur, now=now,
                            reasons={str(criterion.id): texts[locale] for criterion, texts in reasons})


def _assess(cycle: Cycle, voters: list[User], expert: User, now: datetime) -> None:
    """The seven board members and the expert assess every dossier, through the real services:
    each scores a dossier by where their ballot ranks it (the expert by a fixed view of their own)."""
    from capital.services import assessment

    dossiers = assessment.eligible_nominations(cycle)
    names = {n.id: n.host_city.name_latin for n in dossiers}
    views = [ranking for _, _, ranking in DEMO_VOTERS] + ["Lyon > Palermo > Tunis > Venlo > Bamako"]
    for person, view in zip([*voters, expert], views, strict=True):
        if assessment.panel_facts(cycle, person, now).has_submitted:
            continue
        groups = [[name.strip() for name in group.split("=")] for group in view.split(">")]
        place = {name: index for index, group in enumerate(groups) for name in group}
        entries = []
        for nomination in dossiers:
            rank = place.get(names[nomination.id])
            for number, criterion in enumerate(criteria.cycle_criteria(cycle)):
                score = max(criterion.scale_min, min(criterion.scale_max, (5 - rank if rank is not None else 1)
                                                     - number % 2))
                entries.append(assessment.Entry(nomination.id, criterion.id, str(score), DEMO_NOTES[score]))
        assessment.save_assessment(cycle, entries, actor=person, now=now)
        assessment.submit_assessment(cycle, actor=person, now=now)


# What the demo panel writes beside each score.
DEMO_NOTES = {
    0: "Not addressed in the dossier.",
    1: "Mentioned, with little to show for it.",
    2: "Some activities, but no plan to carry them out.",
    3: "A sound plan with named partners.",
    4: "A strong programme, with partners in every district.",
    5: "Outstanding: a model for other cities.",
}


def _demo_user(email: str, name: str, role: Role, city: City | None, now: datetime, locale: str = "en") -> User:
    user = User.by_email(email)
    if user is None:
        user = User(email=email, name=name, locale=locale, password_hash=accounts.hash_password(DEMO_PASSWORD),
                    city_id=city.id if city is not None else None, created_dt=now)
        db.session.add(user)
        db.session.flush()
        if role == Role.BOARD:
            accounts.add_board_term(user, date(now.year - 1, 1, 1), date(now.year + 2, 12, 31), actor="cli", now=now)
        accounts.grant_role(user, role, actor="cli", now=now)
    return user
