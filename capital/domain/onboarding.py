"""Bulk onboarding: reading the CSV files of member cities and of people (docs/roles.md).

A file is UTF-8 (with or without a byte-order mark), its fields separated by commas or
semicolons (as a spreadsheet in a language that writes decimal commas saves it), its first
line naming the columns in any order. Every line is checked on its own and answers with a
value to store or with every problem found, each naming its line and column, so a dry run can
show them all before anything is stored; the service stores each good line whole or not at all.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from capital.domain.localisation import LOCALES, is_timezone
from capital.domain.membership import SignatureForm
from capital.domain.messages import Message, N_
from capital.domain.roles import Role

CITY_COLUMNS = ("name", "name_latin", "country", "time_zone", "email",
                "population", "latitude", "longitude", "membership", "signed_on", "signatory")
CITY_REQUIRED = CITY_COLUMNS[:5]
PEOPLE_COLUMNS = ("email", "name", "role", "city", "language")
PEOPLE_REQUIRED = ("email", "name", "role")

MEMBERSHIP_WORDS = {"committed": SignatureForm.COMMITTED, "acknowledged": SignatureForm.ACKNOWLEDGED}
ROLE_WORDS = {"representative": Role.REPRESENTATIVE, "board": Role.BOARD, "observer": Role.OBSERVER,
              "secretariat": Role.SECRETARIAT}

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Problem:
    """What is wrong at ``line`` (1 is the header) and ``column`` (None: the whole line or file)."""

    line: int
    column: str | None
    message: Message


@dataclass
class Line:
    """One line of a file: its number, its values by column, what it stands for once read
    (``value``), and its problems (a line with any is not stored)."""

    number: int
    cells: dict[str, str]
    value: Any = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class CityLine:
    name: str
    name_latin: str
    country: str
    time_zone: str
    email: str
    population: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    membership: SignatureForm | None = None
    signed_on: date | None = None
    signatory: str = ""


@dataclass(frozen=True)
class PersonLine:
    email: str
    name: str
    role: Role
    city: str = ""
    language: str = "en"


class FileProblem(ValueError):
    """A file that cannot be read as a whole (not UTF-8, no header, a required column missing)."""

    def __init__(self, *problems: Problem) -> None:
        super().__init__(problems[0].message.code)
        self.problems = problems


def read_rows(data: bytes, columns: tuple[str, ...], required: tuple[str, ...]) -> Iterator[Line]:
    """Each non-empty line after the header, with its cells by column name (stripped).

    Raises :class:`FileProblem` when the file is not UTF-8, has no header, names a column
    twice or not at all that ``required`` lists, or one ``columns`` does not know.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileProblem(Problem(0, None, Message(
            N_("The file is not UTF-8 text: save it from the spreadsheet as “CSV UTF-8”."), {},
            "import.encoding"))) from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        raise FileProblem(Problem(1, None, Message(
            N_("The file is empty: its first line must name the columns."), {}, "import.empty")))
    names = [cell.strip().lower() for cell in header]
    problems = []
    for name in dict.fromkeys(names):
        if name and name not in columns:
            problems.append(Problem(1, name, Message(
                N_("Unknown column; the columns are: %(columns)s."), {"columns": ", ".join(columns)},
                "import.unknown_column")))
        elif name and names.count(name) > 1:
            problems.append(Problem(1, name, Message(N_("This column is named twice."), {}, "import.twice")))
    for name in required:
        if name not in names:
            problems.append(Problem(1, name, Message(N_("This column is missing."), {}, "import.missing_column")))
    if problems:
        raise FileProblem(*problems)
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        line = Line(reader.line_num, {name: _cell(row[index]) if index < len(row) else ""
                                      for index, name in enumerate(names) if name})
        if len(row) > len(names):
            line.problems.append(Problem(line.number, None, Message(
                N_("This line has more fields than the header names."), {}, "import.extra_fields")))
        yield line


def _cell(text: str) -> str:
    text = text.strip()
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_STARTS) else text


def check_city(line: Line, *, is_country: Callable[[str], bool], today: date) -> Line:
    """Read a line of the cities' file into a :class:`CityLine`, or record every problem."""
    cells, problem = line.cells, _recorder(line)
    for name in CITY_REQUIRED:
        if not cells.get(name):
            problem(name, N_("This value is missing."), "import.required")
    country = cells.get("country", "").upper()
    if country and not is_country(country):
        problem("country", N_("This is not a known country code (ISO 3166-1, two letters such as DE)."),
                "import.country")
    zone = cells.get("time_zone", "")
    if zone and not is_timezone(zone):
        problem("time_zone", N_("This is not a known time zone (such as Europe/Berlin)."), "import.time_zone")
    email = cells.get("email", "").lower()
    if email and not is_email(email):
        problem("email", N_("This is not an e-mail address."), "import.email")
    population = _number(line, "population", int, 0, 2**31 - 1)
    latitude = _number(line, "latitude", float, -90, 90)
    longitude = _number(line, "longitude", float, -180, 180)
    membership = None
    if word := cells.get("membership", "").lower():
        membership = MEMBERSHIP_WORDS.get(word)
        if membership is None:
            problem("membership", N_("Write “committed” or “acknowledged”."), "import.membership")
    signed_on = None
    if text := cells.get("signed_on", ""):
        try:
            signed_on = date.fromisoformat(text)
        except ValueError:
            problem("signed_on", N_("Write the date as year-month-day, such as 2019-08-31."), "import.date")
        else:
            if signed_on > today:
                problem("signed_on", N_("The signature date can't be in the future."), "import.future")
    if (membership is None) != (signed_on is None) or (membership is not None and not cells.get("signatory")):
        missing = next(name for name, value in (("membership", membership), ("signed_on", signed_on),
                                                 ("signatory", cells.get("signatory"))) if not value)
        if not any(item.column == missing for item in line.problems):
            problem(missing, N_("A signature needs its membership form, date and signatory together."),
                    "import.signature")
    for name, limit in (("name", 200), ("name_latin", 200), ("email", 254), ("signatory", 200)):
        if len(cells.get(name, "")) > limit:
            problem(name, N_("This value is too long: at most %(count)s characters."), "import.too_long",
                    count=limit)
    if line.ok:
        line.value = CityLine(name=cells["name"], name_latin=cells["name_latin"], country=country, time_zone=zone,
                              email=email, population=population, latitude=latitude, longitude=longitude,
                              membership=membership, signed_on=signed_on, signatory=cells.get("signatory", ""))
    return line


def check_person(line: Line) -> Line:
    """Read a line of the people's file into a :class:`PersonLine`, or record every problem
    (whether its city exists is the service's question)."""
    cells, problem = line.cells, _recorder(line)
    for name in PEOPLE_REQUIRED:
        if not cells.get(name):
            problem(name, N_("This value is missing."), "import.required")
    email = cells.get("email", "").lower()
    if email and not is_email(email):
        problem("email", N_("This is not an e-mail address."), "import.email")
    role = None
    if word := cells.get("role", "").lower():
        role = ROLE_WORDS.get(word)
        if role is None:
            problem("role", N_("Write one of: %(languages)s."), "import.role", languages=", ".join(ROLE_WORDS))
    if role == Role.REPRESENTATIVE and not cells.get("city"):
        problem("city", N_("A city representative needs their city."), "import.city_missing")
    language = cells.get("language", "").lower() or "en"
    if language not in LOCALES:
        problem("language", N_("Write one of: %(languages)s."), "import.language", languages=", ".join(LOCALES))
    for name, limit in (("email", 254), ("name", 200), ("city", 200)):
        if len(cells.get(name, "")) > limit:
            problem(name, N_("This value is too long: at most %(count)s characters."), "import.too_long",
                    count=limit)
    if line.ok:
        line.value = PersonLine(email=email, name=cells["name"], role=role, city=cells.get("city", ""),
                                language=language)
    return line


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """A value to export: text a spreadsheet would run as a formula gets a leading apostrophe
    (which :func:`read_rows` takes off again); numbers such as -4.77 stay as they are."""
    if value.startswith(_FORMULA_STARTS) and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def is_email(text: str) -> bool:
    return len(text) <= 254 and _EMAIL.match(text) is not None


def _recorder(line: Line):
    def problem(column: str | None, message: str, code: str, **params) -> None:
        line.problems.append(Problem(line.number, column, Message(message, params, code)))
    return problem


def _number(line: Line, name: str, kind: type, low: float, high: float):
    text = line.cells.get(name, "")
    if not text:
        return None
    try:
        value = kind(text.replace(",", ".") if kind is float else text)
    except ValueError:
        value = None
    if value is None or value != value or not low <= value <= high:
        line.problems.append(Problem(line.number, name, Message(
            N_("Write a number from %(low)s to %(high)s."), {"low": low, "high": high}, "import.number")))
        return None
    return value
