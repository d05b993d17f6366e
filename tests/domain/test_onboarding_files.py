"""Reading the onboarding CSV files: encodings, separators, and every problem with its line and column."""

from datetime import date

import pytest

from capital.domain import onboarding as rows
from capital.domain.membership import SignatureForm
from capital.domain.roles import Role

TODAY = date(2026, 12, 3)
COUNTRIES = {"DE", "ES", "TN", "NL"}


def cities(data: bytes):
    return [rows.check_city(line, is_country=COUNTRIES.__contains__, today=TODAY)
            for line in rows.read_rows(data, rows.CITY_COLUMNS, rows.CITY_REQUIRED)]


def codes(line):
    return [(problem.line, problem.column, problem.message.code) for problem in line.problems]


@pytest.mark.parametrize("encoding,separator", [("utf-8", ","), ("utf-8-sig", ","), ("utf-8-sig", ";")])
def test_utf8_with_or_without_bom_and_comma_or_semicolon_read_alike(encoding, separator):
    text = separator.join(rows.CITY_COLUMNS) + "\r\n" + separator.join(
        ["Córdoba", "Cordoba", "es", "Europe/Madrid", "Alcaldia@Cordoba.es", "325000", "37.88", "-4.77",
         "committed", "2019-08-31", "José María Bellido"]) + "\r\n\r\n"
    [line] = cities(text.encode(encoding))
    assert line.ok and line.number == 2
    assert line.value == rows.CityLine(
        name="Córdoba", name_latin="Cordoba", country="ES", time_zone="Europe/Madrid", email="alcaldia@cordoba.es",
        population=325000, latitude=37.88, longitude=-4.77, membership=SignatureForm.COMMITTED,
        signed_on=date(2019, 8, 31), signatory="José María Bellido")


def test_a_semicolon_file_may_write_decimal_commas():
    [line] = cities("name;name_latin;country;time_zone;email;latitude;longitude\n"
                    "تونس;Tunis;TN;Africa/Tunis;contact@tunis.tn;36,8;10,18\n".encode())
    assert line.ok and (line.value.latitude, line.value.longitude) == (36.8, 10.18)


def test_every_problem_of_a_line_names_its_line_and_column():
    data = ("name,name_latin,country,time_zone,email,population,latitude,membership,signed_on,signatory\n"
            "Venlo,Venlo,NL,Europe/Amsterdam,venlo@venlo.nl,,,,,\n"
            ",Nowhere,XX,Mars/Olympus,not-an-address,-5,91,signed,2030-01-01,Someone\n"
            "Lyon,Lyon,DE,Europe/Paris,lyon@lyon.fr,,,acknowledged,,\n").encode()
    good, bad, half = cities(data)
    assert good.ok
    assert codes(bad) == [(3, "name", "import.required"), (3, "country", "import.country"),
                          (3, "time_zone", "import.time_zone"), (3, "email", "import.email"),
                          (3, "population", "import.number"), (3, "latitude", "import.number"),
                          (3, "membership", "import.membership"), (3, "signed_on", "import.future")]
    assert codes(half) == [(4, "signed_on", "import.signature")]
    assert bad.value is None


@pytest.mark.parametrize("data,expected", [
    (b"\xff\xfen\x00a\x00", [(0, None, "import.encoding")]),
    (b"", [(1, None, "import.empty")]),
    (b"name,country,colour\n", [(1, "colour", "import.unknown_column"), (1, "name_latin", "import.missing_column"),
                                (1, "time_zone", "import.missing_column"), (1, "email", "import.missing_column")]),
    (b"name,name,name_latin,country,time_zone,email\n", [(1, "name", "import.twice")]),
])
def test_a_file_that_cannot_be_read_says_why_before_any_line(data, expected):
    with pytest.raises(rows.FileProblem) as refused:
        cities(data)
    assert [(p.line, p.column, p.message.code) for p in refused.value.problems] == expected


def test_people_lines_need_an_address_a_name_a_known_role_and_a_city_for_a_representative():
    data = ("email,name,role,city,language\n"
            "Ana@Cordoba.es,Ana Ruiz,representative,Cordoba,es\n"
            "board@capital.example,Board Member,board,,\n"
            "nobody,,mayor,,xx\n"
            "rep@venlo.nl,Rep,representative,,nl\n").encode()
    ana, board, bad, rep = [rows.check_person(line) for line in
                            rows.read_rows(data, rows.PEOPLE_COLUMNS, rows.PEOPLE_REQUIRED)]
    assert ana.value == rows.PersonLine("ana@cordoba.es", "Ana Ruiz", Role.REPRESENTATIVE, "Cordoba", "es")
    assert board.value.language == "en" and board.value.role == Role.BOARD
    assert codes(bad) == [(4, "name", "import.required"), (4, "email", "import.email"), (4, "role", "import.role"),
                          (4, "language", "import.language")]
    assert codes(rep) == [(5, "city", "import.city_missing"), (5, "language", "import.language")]
