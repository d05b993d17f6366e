"""Bulk onboarding: member cities and people from CSV files, and the same files back out (docs/roles.md).

A dry run reads and checks every line and says what each would do, storing nothing. An import
stores each good line whole or not at all (its own savepoint), so a refused line leaves no
trace and the others go on; the report says what became of every line. Importing the same
file again changes nothing: a city is found again by its Latin name and country, a person by
their e-mail address. People are invited through :func:`capital.services.accounts.invite`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from capital.domain import onboarding as rows
from capital.domain.membership import CityStatus
from capital.domain.messages import Message, N_, RuleViolation
from capital.domain.roles import InvitationState, Role
from capital.extensions import db
from capital.models import City, DeclarationSignature, ImportJob, Invitation, User
from capital.models.types import utcnow
from capital.services import accounts
from capital.services.audit import Actor, record
from capital.services.cities import is_country_code
from capital.services.dispatch import after_commit, commit

KINDS = ("cities", "people")
# Files with more lines than this are read by a task, the page showing its progress; so is every
# import of people (the invitations' mails are rendered there, never in the request).
BACKGROUND_LINES = 300
# An import task silent this long has lost its worker: the tick hands the job out again.
IMPORT_LEASE = timedelta(minutes=10)
# Lines an import stores per transaction: a worker killed in between keeps what was committed,
# and importing the file again finishes the rest.
CHUNK = 200


@dataclass
class LineReport:
    """What became of one line: ``outcome`` is one of OUTCOMES; ``label`` names what it was about."""

    number: int
    label: str
    outcome: str
    problems: list[rows.Problem] = field(default_factory=list)


OUTCOMES = ("created", "updated", "unchanged", "invited", "refused")


@dataclass
class ImportReport:
    kind: str
    dry_run: bool
    lines: list[LineReport] = field(default_factory=list)
    file_problems: list[rows.Problem] = field(default_factory=list)

    @property
    def refused(self) -> list[LineReport]:
        return [line for line in self.lines if line.outcome == "refused"]

    @property
    def ok(self) -> bool:
        return not self.file_problems and not self.refused

    def counts(self) -> dict[str, int]:
        return {outcome: sum(line.outcome == outcome for line in self.lines) for outcome in OUTCOMES}

    def to_dict(self) -> dict:
        """As JSON, for a job's stored report."""
        return {"kind": self.kind, "dry_run": self.dry_run,
                "file_problems": [_problem_dict(item) for item in self.file_problems],
                "lines": [{"number": line.number, "label": line.label, "outcome": line.outcome,
                           "problems": [_problem_dict(item) for item in line.problems]} for line in self.lines]}

    @classmethod
    def from_dict(cls, data: dict) -> ImportReport:
        return cls(kind=data["kind"], dry_run=data["dry_run"],
                   file_problems=[_problem_of(item) for item in data["file_problems"]],
                   lines=[LineReport(line["number"], line["label"], line["outcome"],
                                     [_problem_of(item) for item in line["problems"]]) for line in data["lines"]])


def _problem_dict(problem: rows.Problem) -> dict:
    return {"line": problem.line, "column": problem.column, "message": problem.message.message,
            "params": problem.message.params, "code": problem.message.code}


def _problem_of(data: dict) -> rows.Problem:
    return rows.Problem(data["line"], data["column"], Message(data["message"], data["params"], data["code"]))


def problem_text(problem: rows.Problem) -> str:
    """A problem in the reader's language, with its line and column."""
    from capital.i18n import _, translate

    if problem.column:
        return _("Line %(line)s, column “%(column)s”: %(problem)s", line=problem.line, column=problem.column,
                 problem=translate(problem.message))
    return _("Line %(line)s: %(problem)s", line=problem.line, problem=translate(problem.message))


def count_lines(data: bytes) -> int:
    """About how many lines a file has (to choose between now and a background task)."""
    return data.count(b"\n")


def run_import(kind: str, data: bytes, *, dry_run: bool, actor: Actor, now: datetime,
               progress: Callable[[int], None] | None = None) -> ImportReport:
    """Import (or, with ``dry_run``, check) a file of ``kind`` ("cities" or "people").

    ``progress(lines_done)`` is called after each chunk of lines (a task commits there, so a
    killed worker keeps what was done); the caller commits the rest.
    """
    report = ImportReport(kind=kind, dry_run=dry_run)
    columns, required = ((rows.CITY_COLUMNS, rows.CITY_REQUIRED) if kind == "cities"
                         else (rows.PEOPLE_COLUMNS, rows.PEOPLE_REQUIRED))
    try:
        lines = list(rows.read_rows(data, columns, required))
    except rows.FileProblem as problem:
        report.file_problems = list(problem.problems)
        return report
    importer = _CityImporter(actor, now) if kind == "cities" else _PeopleImporter(actor, now)
    for index, line in enumerate(lines, 1):
        report.lines.append(importer.line(line, dry_run=dry_run))
        if progress is not None and (index % CHUNK == 0 or index == len(lines)):
            progress(index)
    return report


@dataclass(frozen=True)
class _KnownCity:
    """What a line is compared with: a city as it stands, read once for the whole import."""

    id: int
    values: dict
    signatures: frozenset


def _known_cities() -> dict[tuple[str, str], _KnownCity]:
    """Every city by (Latin name folded, country), read in two queries: a file of 5 000 lines must
    not read the table, nor load a city, for each line it leaves unchanged."""
    signatures: dict[int, set] = {}
    for city_id, form, signed_on, signatory in db.session.execute(select(
            DeclarationSignature.city_id, DeclarationSignature.form, DeclarationSignature.signed_on,
            DeclarationSignature.signatory_name)):
        signatures.setdefault(city_id, set()).add((form, signed_on, signatory))
    known = {}
    for row in db.session.execute(select(City.id, City.name_latin, City.country_code, City.name, City.timezone,
                                         City.contact_email, City.population, City.latitude, City.longitude)):
        values = {"name": row.name, "timezone": row.timezone, "contact_email": row.contact_email,
                  "population": row.population, "latitude": row.latitude, "longitude": row.longitude}
        known[(row.name_latin.casefold(), row.country_code)] = _KnownCity(
            row.id, values, frozenset(signatures.get(row.id, ())))
    return known


class _CityImporter:
    def __init__(self, actor: Actor, now: datetime) -> None:
        self.actor, self.now, self.seen, self.known = actor, now, {}, _known_cities()

    def line(self, line: rows.Line, *, dry_run: bool) -> LineReport:
        rows.check_city(line, is_country=is_country_code, today=self.now.date())
        label = line.cells.get("name_latin") or line.cells.get("name", "")
        if line.ok:
            key = (line.value.name_latin.casefold(), line.value.country)
            if key in self.seen:
                line.problems.append(rows.Problem(line.number, "name_latin", Message(
                    N_("The same city is already on line %(line)s."), {"line": self.seen[key]}, "import.repeated")))
            self.seen.setdefault(key, line.number)
        if not line.ok:
            return LineReport(line.number, label, "refused", line.problems)
        known = self.known.get((line.value.name_latin.casefold(), line.value.country))
        changes = _city_changes(known, line.value) if known else None
        if dry_run or changes == {}:
            outcome = "created" if known is None else ("updated" if changes else "unchanged")
            return LineReport(line.number, label, outcome)
        city = db.session.get(City, known.id) if known else None
        return _each_whole(line, label, lambda: _store_city(city, changes, line.value, actor=self.actor, now=self.now))


class _PeopleImporter:
    def __init__(self, actor: Actor, now: datetime) -> None:
        self.actor, self.now, self.seen = actor, now, {}
        self.names: dict[str, list[tuple[int, str]]] = {}
        for city_id, name, name_latin, country in db.session.execute(
                select(City.id, City.name, City.name_latin, City.country_code).order_by(City.id)):
            for key in dict.fromkeys((name_latin.casefold(), name.casefold())):
                self.names.setdefault(key, []).append((city_id, country))

    def line(self, line: rows.Line, *, dry_run: bool) -> LineReport:
        rows.check_person(line)
        label = line.cells.get("email", "")
        city = None
        if line.ok:
            person = line.value
            if person.email in self.seen:
                line.problems.append(rows.Problem(line.number, "email", Message(
                    N_("The same person is already on line %(line)s."), {"line": self.seen[person.email]},
                    "import.repeated")))
            self.seen.setdefault(person.email, line.number)
            if person.city:
                city, problem = _city_named(person.city, self.names)
                if problem:
                    line.problems.append(rows.Problem(line.number, "city", problem))
        if not line.ok:
            return LineReport(line.number, label, "refused", line.problems)
        person = line.value
        outcome, problem = _person_outcome(person, city, self.now)
        if problem:
            return LineReport(line.number, label, "refused", [rows.Problem(line.number, "email", problem)])
        if dry_run or outcome == "unchanged":
            return LineReport(line.number, label, outcome)

        def invite():
            accounts.invite(person.email, person.role, name=person.name, city=city, locale=person.language,
                            actor=self.actor, now=self.now)
            return "invited"
        return _each_whole(line, label, invite)


def _each_whole(line: rows.Line, label: str, store: Callable[[], str]) -> LineReport:
    """Store one line in its own savepoint: all of it, or (refused) none of it."""
    try:
        with db.session.begin_nested():
            outcome = store()
    except RuleViolation as error:
        return LineReport(line.number, label, "refused", [rows.Problem(line.number, None, reason)
                                                          for reason in error.reasons])
    except IntegrityError:
        return LineReport(line.number, label, "refused", [rows.Problem(line.number, None, Message(
            N_("Someone else stored the same thing at the same moment; import the file again."), {},
            "import.conflict"))])
    return LineReport(line.number, label, outcome)


# --- jobs: now, or by a task with a progress page --------------------------------------------------

def start_import(kind: str, filename: str, data: bytes, *, dry_run: bool, actor: User, now: datetime) -> ImportJob:
    """Record the file as a job and check or import it now when it is small (a dry run, or
    cities), else hand it to a task after the commit (see :func:`run_job`)."""
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}")
    job = ImportJob(kind=kind, filename=filename[:255], data=data, is_dry_run=dry_run, state="queued",
                    lines_total=max(count_lines(data) - 1, 0), created_by_id=actor.id, created_dt=now)
    db.session.add(job)
    db.session.flush()
    if count_lines(data) <= BACKGROUND_LINES and (dry_run or kind == "cities"):
        _finish(job, run_import(kind, data, dry_run=dry_run, actor=actor, now=now), now)
    else:
        from capital.tasks.onboarding import run  # here: the task module builds on this one

        after_commit(run, job.id, now.isoformat(), after_response=True)
    return job


def run_job(job_id: int, now: datetime) -> None:
    """Check or import a queued (or interrupted) job, committing as it goes; a done job is left
    alone, and an interrupted one started again changes nothing it had done (re-importing does not)."""
    job = db.session.get(ImportJob, job_id, with_for_update={"skip_locked": True})
    if job is None or job.state == "done" or (job.state == "running" and _is_alive(job, now)):
        db.session.rollback()
        return
    job.state, job.lines_done, job.heartbeat_dt = "running", 0, max(now, utcnow())
    actor = db.session.get(User, job.created_by_id) if job.created_by_id else "import"
    commit()

    def progress(done: int) -> None:
        db.session.execute(db.update(ImportJob).where(ImportJob.id == job_id)
                           .values(lines_done=done, heartbeat_dt=max(now, utcnow())))
        commit()

    report = run_import(job.kind, job.data, dry_run=job.is_dry_run, actor=actor, now=now, progress=progress)
    _finish(db.session.get(ImportJob, job_id), report, now)
    commit()


def _is_alive(job: ImportJob, now: datetime) -> bool:
    return job.heartbeat_dt is not None and job.heartbeat_dt > now - IMPORT_LEASE


def stalled_import_ids(now: datetime) -> list[int]:
    """Jobs not done whose task is gone: never started (a broker lost it) or silent for the lease."""
    return list(db.session.scalars(select(ImportJob.id).where(
        ImportJob.state != "done", ImportJob.created_dt <= now - IMPORT_LEASE,
        (ImportJob.heartbeat_dt.is_(None)) | (ImportJob.heartbeat_dt <= now - IMPORT_LEASE))
        .order_by(ImportJob.id).limit(100)))


def _finish(job: ImportJob, report: ImportReport, now: datetime) -> None:
    job.report, job.state, job.finished_dt = report.to_dict(), "done", now
    job.lines_total = job.lines_done = len(report.lines)


def report_of(job: ImportJob) -> ImportReport | None:
    return ImportReport.from_dict(job.report) if job.report is not None else None


# --- cities --------------------------------------------------------------------------------------

def _city_changes(known: _KnownCity, value: rows.CityLine) -> dict:
    """What a line changes in a city: ``{field: [now, wanted]}``, and a signature not recorded yet."""
    wanted = {"name": value.name, "timezone": value.time_zone, "contact_email": value.email,
              "population": value.population, "latitude": value.latitude, "longitude": value.longitude}
    changes = {name: [known.values[name], wanted[name]] for name in wanted if known.values[name] != wanted[name]}
    if value.membership is not None and (value.membership, value.signed_on, value.signatory) not in known.signatures:
        changes["signature"] = [None, value.signed_on.isoformat()]
    return changes


def _store_city(city: City | None, changes: dict | None, value: rows.CityLine, *, actor: Actor,
                now: datetime) -> str:
    """Create the city, or apply ``changes`` (from :func:`_city_changes`) to it."""
    created = city is None
    if created:
        city = City(name_latin=value.name_latin, country_code=value.country, created_dt=now,
                    status=CityStatus.MEMBER if value.membership else CityStatus.APPLICANT)
        db.session.add(city)
    city.name, city.timezone, city.contact_email = value.name, value.time_zone, value.email
    city.population, city.latitude, city.longitude = value.population, value.latitude, value.longitude
    if value.membership is not None and (created or "signature" in changes):
        city.signatures.append(DeclarationSignature(form=value.membership, signed_on=value.signed_on,
                                                    signatory_name=value.signatory))
    db.session.flush()
    if created:
        record("city.created", city, actor=actor, now=now, data={"imported": True, "name": city.name,
                                                                  "country_code": city.country_code})
        return "created"
    record("city.updated", city, actor=actor, now=now, data={"imported": True, "changes": changes})
    return "updated"


def _city_named(text: str, names: dict[str, list[tuple[int, str]]]) -> tuple[City | None, Message | None]:
    """The city a people's file names: its Latin or native name, with " (CC)" when several share it."""
    name, country = text, None
    if len(text) > 5 and text.endswith(")") and text[-5:-3] == " (":
        name, country = text[:-5].strip(), text[-3:-1].upper()
    found = [(city_id, code) for city_id, code in names.get(name.casefold(), []) if country in (None, code)]
    if not found:
        return None, Message(N_("No city of this name; import the cities first."), {}, "import.city_unknown")
    if len(found) > 1:
        return None, Message(N_("Several cities have this name: add the country code, such as “%(example)s”."),
                             {"example": f"{name} ({found[0][1]})"}, "import.city_ambiguous")
    return db.session.get(City, found[0][0]), None


# --- people --------------------------------------------------------------------------------------

def _person_outcome(person: rows.PersonLine, city: City | None, now: datetime) -> tuple[str, Message | None]:
    """"unchanged" when they hold the role (or are invited to it) already, else "invited"; or why not."""
    user = db.session.scalar(select(User).where(User.email == person.email))  # stored lower-cased
    if user is not None:
        if user.has_role(person.role) and (person.role != Role.REPRESENTATIVE or user.city_id == city.id):
            return "unchanged", None
        return "refused", Message(N_("This person has an account already: give them the role on their page."),
                                  {}, "import.has_account")
    pending = db.session.scalars(select(Invitation).where(Invitation.email == person.email,
                                                           Invitation.role == person.role)).all()
    if any(item.state(now) == InvitationState.PENDING for item in pending):
        return "unchanged", None
    return "invited", None


# --- export --------------------------------------------------------------------------------------

def export_cities() -> Iterator[str]:
    """The cities' file, line by line (with its latest signature), in the columns the import reads."""
    yield _csv_line(rows.CITY_COLUMNS)
    last = 0
    while True:
        batch = list(db.session.scalars(select(City).options(selectinload(City.signatures))
                                        .where(City.id > last).order_by(City.id).limit(500)))
        if not batch:
            return
        for city in batch:
            signature = city.latest_signature
            word = next((name for name, form in rows.MEMBERSHIP_WORDS.items()
                         if signature and form == signature.form), "")
            yield _csv_line((city.name, city.name_latin, city.country_code, city.timezone, city.contact_email,
                             _text(city.population), _text(city.latitude), _text(city.longitude), word,
                             signature.signed_on.isoformat() if signature else "",
                             signature.signatory_name if signature else ""))
        last = batch[-1].id


def export_people() -> Iterator[str]:
    """Everyone with a role, one line per role, in the columns the import reads."""
    yield _csv_line(rows.PEOPLE_COLUMNS)
    words = {role: word for word, role in rows.ROLE_WORDS.items()}
    last = 0
    while True:
        users = list(db.session.scalars(select(User).options(selectinload(User.role_grants), selectinload(User.city))
                                        .where(User.id > last).order_by(User.id).limit(500)))
        if not users:
            return
        for user in users:
            for role in sorted(grant.role for grant in user.role_grants if grant.role in words):
                city = user.city.name_latin if role == Role.REPRESENTATIVE and user.city else ""
                yield _csv_line((user.email, user.name, words[role], city, user.locale or "en"))
        last = users[-1].id


def _csv_line(values: Iterable) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([rows.spreadsheet_safe(value) for value in values])
    return buffer.getvalue()


def _text(value) -> str:
    return "" if value is None else str(value)
