"""A cycle counted by the real tally engine, for the public site's tests.

The rows are made directly (the board-vote services are not what these tests check); the
tally is the engine's own JSON for the ballots stored, so the page shows a genuine count.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from capital.domain.nominations import NominationState
from capital.domain.phase import Phase
from capital.domain.timeline import celebration_day
from capital.models import Ballot, Cycle, Nomination, NominationText, Result, VotingRound
from capital.voting import tally

ANNOUNCEMENT = datetime(2031, 3, 16, 12, 0, tzinfo=UTC)
BEFORE = ANNOUNCEMENT - timedelta(seconds=1)
AFTER = ANNOUNCEMENT + timedelta(days=1)

# Host cities (own name, Latin name, country, time zone) and the board's ballots, by host.
HOSTS = [("Palermo", "Palermo", "IT", "Europe/Rome"), ("تونس", "Tunis", "TN", "Africa/Tunis"),
         ("Venlo", "Venlo", "NL", "Europe/Amsterdam")]
BALLOTS = [
    ("PAL1-0000-0000-0001", [["Palermo"], ["Tunis"], ["Venlo"]]),
    ("PAL1-0000-0000-0002", [["Palermo"], ["Venlo"]]),
    ("TUN1-0000-0000-0003", [["Tunis"], ["Palermo"], ["Venlo"]]),
    ("TUN1-0000-0000-0004", [["Tunis"], ["Venlo", "Palermo"]]),
    ("VEN1-0000-0000-0005", [["Venlo"], ["Palermo"], ["Tunis"]]),
]
WINNER = "Palermo"
RECEIPT = "TUN1-0000-0000-0004"


def make_counted_cycle(db, make_city, *, year=2031, method="irv", phase=Phase.ANNOUNCED,
                       announcement_dt=ANNOUNCEMENT, eligible_voters=7, hosts=HOSTS, ballots=BALLOTS, winner=WINNER):
    """A cycle for ``year`` whose board vote was counted by ``method``; Palermo wins (by default:
    ``hosts``, ``ballots`` and the ``winner`` they give can be others)."""
    cities = {latin: make_city(name, country=country, timezone=zone) for name, latin, country, zone in hosts}
    for (name, latin, _, _), city in zip(hosts, cities.values()):
        city.name, city.name_latin = name, latin
    cycle = Cycle(year=year, celebration_date=celebration_day(year), phase=phase, method=method,
                  nominations_open_dt=datetime(year - 1, 10, 16, 12, tzinfo=UTC),
                  nominations_close_dt=datetime(year, 1, 16, 12, tzinfo=UTC),
                  voting_open_dt=datetime(year, 2, 16, 12, tzinfo=UTC),
                  voting_close_dt=datetime(year, 3, 9, 12, tzinfo=UTC), announcement_dt=announcement_dt)
    db.session.add(cycle)
    db.session.flush()
    nominations = {}
    for latin, city in cities.items():
        nomination = Nomination(cycle_id=cycle.id, nominating_city_id=city.id, host_city_id=city.id,
                                state=NominationState.ELIGIBLE, title=f"{latin} celebrates living together")
        nomination.texts.append(NominationText(locale="en", summary=f"{latin} opens its squares.",
                                               programme=f"Concert in {latin} at noon."))
        nomination.texts.append(NominationText(locale="fr", summary=f"{latin} ouvre ses places.",
                                               programme=f"Concert à {latin} à midi."))
        db.session.add(nomination)
        nominations[latin] = nomination
    db.session.flush()
    names = list(cities)
    order = [nominations[name].id for name in names]
    voting_round = VotingRound(cycle_id=cycle.id, number=1, opens_dt=cycle.voting_open_dt,
                               closes_dt=cycle.voting_close_dt, closed_dt=cycle.voting_close_dt,
                               tie_break_order=order)
    db.session.add(voting_round)
    db.session.flush()
    lines = []
    for code, ranking in ballots:
        db.session.add(Ballot(round_id=voting_round.id, receipt_code=code,
                              ranking=[[nominations[name].id for name in group] for group in ranking]))
        lines.append(" > ".join(" = ".join(group) for group in ranking) + f" # {code}")
    text = "\n".join(lines) + "\n"
    outcome = tally(text, method=method, candidates=names, tie_break=names)
    assert outcome.winner == winner, outcome.to_dict()
    data = outcome.to_dict()
    data["candidate_ids"] = [nominations[name].id for name in data["candidates"]]  # as the tally service keeps it
    db.session.add(Result(round_id=voting_round.id, method=method, tally=data,
                          winner_nomination_id=nominations[winner].id, eligible_voters=eligible_voters,
                          ballots_cast=len(ballots), is_quorum_met=True, ballot_file=text,
                          checksum=hashlib.sha256(text.encode()).hexdigest(), tallied_dt=cycle.voting_close_dt))
    # The designation happens when the cycle is announced, even by hand before the announcement time.
    cycle.capital_city_id = cities[winner].id
    db.session.commit()
    return cycle


CITATION = {
    "en": "Palermo opened its squares to every faith and every language.\n\nThe jury salutes its schools.",
    "fr": "Palerme a ouvert ses places à toutes les croyances et toutes les langues.\n\nLe jury salue ses écoles.",
}
FINALIST_NOTE = {"en": "Tunis brought its neighbourhoods together.", "fr": "Tunis a réuni ses quartiers."}


def add_report(db, cycle, texts=None, *, first="en", notes=FINALIST_NOTE, saved_dt=None, reasons=None):
    """The jury report of ``cycle``, saved as rows (one version per language): ``texts`` maps a
    language to its citation; each language gets the note on Tunis of ``notes`` where it has one,
    and its ``reasons`` (language -> criterion id -> text, see :func:`reasons_of`) where it has some."""
    from capital.models import JuryReport, JuryReportText

    texts = CITATION if texts is None else texts
    tunis = db.session.query(Nomination).filter(Nomination.title.startswith("Tunis")).one()
    report = JuryReport(cycle_id=cycle.id, first_locale=first)
    db.session.add(report)
    db.session.flush()
    for locale, citation in texts.items():
        db.session.add(JuryReportText(report_id=report.id, locale=locale, version=1, citation=citation,
                                      finalists={str(tunis.id): notes[locale]} if locale in notes else {},
                                      reasons=(reasons or {}).get(locale, {}),
                                      saved_dt=saved_dt or cycle.voting_close_dt))
    db.session.commit()
    return report


# Two criteria: one written in English and French, one in German only (a reader of any other language
# sees its German name, marked with its lang).
CRITERIA = [
    [{"locale": "en", "name": "Inclusive city", "description": "A city where everyone belongs."},
     {"locale": "fr", "name": "Ville inclusive", "description": "Une ville où chacun a sa place."}],
    [{"locale": "de", "name": "Reichweite", "description": "Wie weit die Feier trägt."}],
]
# The reasons against them, by criterion position: the French text has none against the second.
REASONS = {"en": ["Palermo welcomes newcomers in their own languages.", "Ten twin cities will celebrate too."],
           "fr": ["Palerme accueille les nouveaux venus dans leur langue.", ""]}


def add_criteria(db, cycle, criteria=CRITERIA):
    """``cycle``'s criteria, as rows, in the order of ``criteria`` (each a list of texts)."""
    from capital.models import Criterion

    rows = [Criterion(cycle_id=cycle.id, position=position, texts=texts) for position, texts in enumerate(criteria)]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def reasons_of(criteria, reasons=REASONS) -> dict[str, dict[str, str]]:
    """``reasons`` (language -> texts by criterion position) keyed as a report keeps them: by criterion id."""
    return {locale: {str(c.id): text for c, text in zip(criteria, texts) if text} for locale, texts in reasons.items()}
