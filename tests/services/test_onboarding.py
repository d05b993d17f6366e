"""Importing member cities and people from CSV: dry run, each line whole or not at all, a second import
changing nothing, the export reading back the same, and the command line (issue 19, item 2)."""

from datetime import timedelta

from sqlalchemy import func, select

from capital.domain.membership import CityStatus, SignatureForm
from capital.domain.roles import Role
from capital.models import AuditEntry, City, DeclarationSignature, Invitation, Mail
from capital.services import onboarding
from capital.services.dispatch import commit
from tests.conftest import NOW

CITIES = (
    "name,name_latin,country,time_zone,email,population,latitude,longitude,membership,signed_on,signatory\r\n"
    "Düsseldorf,Dusseldorf,DE,Europe/Berlin,buero@duesseldorf.de,620000,51.23,6.78,committed,2019-08-31,"
    "Thomas Geisel\r\n"
    "Córdoba,Cordoba,ES,Europe/Madrid,alcaldia@cordoba.es,,37.88,-4.77,acknowledged,2019-08-31,Isabel Ambrosio\r\n"
    "Nowhere,Nowhere,XX,Europe/Berlin,x@nowhere.example,,,,,,\r\n"
    "تونس,Tunis,TN,Africa/Tunis,contact@tunis.tn,,,,,,\r\n"
).encode("utf-8-sig")

PEOPLE = (
    "email;name;role;city;language\n"
    "ana@cordoba.es;Ana Ruiz;representative;Cordoba;es\n"
    "board@capital.example;Bo Ard;board;;fr\n"
    "ghost@nowhere.example;Ghost;representative;Atlantis;en\n"
).encode()


def count(model) -> int:
    from capital.extensions import db

    return db.session.scalar(select(func.count()).select_from(model))


def test_a_dry_run_says_what_each_line_would_do_and_stores_nothing(db):
    report = onboarding.run_import("cities", CITIES, dry_run=True, actor="test", now=NOW)
    assert [(line.number, line.label, line.outcome) for line in report.lines] == [
        (2, "Dusseldorf", "created"), (3, "Cordoba", "created"), (4, "Nowhere", "refused"), (5, "Tunis", "created")]
    assert [(p.line, p.column, p.message.code) for p in report.refused[0].problems] == [(4, "country", "import.country")]
    commit()
    assert count(City) == 0 and count(AuditEntry) == 0


def test_an_import_stores_each_good_line_and_again_changes_nothing(db):
    report = onboarding.run_import("cities", CITIES, dry_run=False, actor="test", now=NOW)
    commit()
    assert report.counts() == {"created": 3, "updated": 0, "unchanged": 0, "invited": 0, "refused": 1}
    cordoba = db.session.scalar(select(City).where(City.name_latin == "Cordoba"))
    assert (cordoba.name, cordoba.country_code, cordoba.status) == ("Córdoba", "ES", CityStatus.MEMBER)
    assert (cordoba.latest_signature.form, cordoba.latest_signature.signatory_name) == (
        SignatureForm.ACKNOWLEDGED, "Isabel Ambrosio")
    assert db.session.scalar(select(City.status).where(City.name_latin == "Tunis")) == CityStatus.APPLICANT
    entries = count(AuditEntry)

    again = onboarding.run_import("cities", CITIES, dry_run=False, actor="test", now=NOW + timedelta(hours=1))
    commit()
    assert again.counts()["unchanged"] == 3 and again.counts()["refused"] == 1
    assert (count(City), count(DeclarationSignature), count(AuditEntry)) == (3, 2, entries)

    changed = CITIES.replace(b"620000", b"621000")
    assert [line.outcome for line in onboarding.run_import("cities", changed, dry_run=False, actor="test",
                                                           now=NOW).lines][0] == "updated"
    commit()
    assert db.session.scalar(select(City.population).where(City.name_latin == "Dusseldorf")) == 621000


def test_the_same_city_twice_in_one_file_is_refused_on_its_second_line(db):
    data = CITIES + "Düsseldorf,DUSSELDORF,DE,Europe/Berlin,b@d.de,,,,,,\r\n".encode()
    report = onboarding.run_import("cities", data, dry_run=True, actor="test", now=NOW)
    assert report.lines[-1].outcome == "refused"
    assert report.lines[-1].problems[0].message.params == {"line": 2}


def test_people_are_invited_once_with_their_role_city_and_language(db, make_city):
    make_city("Cordoba", country="ES", timezone="Europe/Madrid")
    dry = onboarding.run_import("people", PEOPLE, dry_run=True, actor="test", now=NOW)
    assert [line.outcome for line in dry.lines] == ["invited", "invited", "refused"]
    assert dry.lines[2].problems[0].column == "city"
    assert count(Invitation) == 0

    report = onboarding.run_import("people", PEOPLE, dry_run=False, actor="test", now=NOW)
    commit()
    assert [line.outcome for line in report.lines] == ["invited", "invited", "refused"]
    ana = db.session.scalar(select(Invitation).where(Invitation.email == "ana@cordoba.es"))
    assert (ana.role, ana.city.name, ana.locale, ana.name) == (Role.REPRESENTATIVE, "Cordoba", "es", "Ana Ruiz")
    assert sorted(db.session.scalars(select(Mail.recipient).where(Mail.kind == "invitation"))) == [
        "ana@cordoba.es", "board@capital.example"]

    again = onboarding.run_import("people", PEOPLE, dry_run=False, actor="test", now=NOW + timedelta(hours=1))
    commit()
    assert [line.outcome for line in again.lines] == ["unchanged", "unchanged", "refused"]
    assert (count(Invitation), count(Mail)) == (2, 2)


def test_someone_with_an_account_is_not_invited_again(db, make_city, make_user):
    city = make_city("Cordoba", country="ES", timezone="Europe/Madrid")
    make_user(Role.REPRESENTATIVE, city=city, email="ana@cordoba.es")
    make_user(Role.REPRESENTATIVE, city=city, email="board@capital.example")
    report = onboarding.run_import("people", PEOPLE, dry_run=False, actor="test", now=NOW)
    assert [line.outcome for line in report.lines] == ["unchanged", "refused", "refused"]
    assert report.lines[1].problems[0].message.code == "import.has_account"


def test_the_export_has_the_import_s_columns_and_reads_back_unchanged(db, make_city, make_user):
    onboarding.run_import("cities", CITIES, dry_run=False, actor="test", now=NOW)
    commit()
    exported = "".join(onboarding.export_cities()).encode()
    assert exported.split(b"\r\n")[0].decode().split(",") == list(onboarding.rows.CITY_COLUMNS)
    report = onboarding.run_import("cities", exported, dry_run=True, actor="test", now=NOW)
    assert [line.outcome for line in report.lines] == ["unchanged"] * 3

    city = db.session.scalar(select(City).where(City.name_latin == "Cordoba"))
    make_user(Role.REPRESENTATIVE, Role.BOARD, city=city, email="ana@cordoba.es", name="Ana Ruiz", locale="es")
    people = "".join(onboarding.export_people())
    assert people.splitlines() == ["email,name,role,city,language", "ana@cordoba.es,Ana Ruiz,representative,Cordoba,es",
                                   "ana@cordoba.es,Ana Ruiz,board,,es"]
    assert [line.outcome for line in onboarding.run_import("people", people.encode(), dry_run=True, actor="test",
                                                           now=NOW).lines] == ["unchanged", "refused"]


def test_the_commands_print_each_refused_line_and_exit_2(app, db, tmp_path):
    path = tmp_path / "cities.csv"
    path.write_bytes(CITIES)
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["capital", "import-cities", str(path), "--dry-run"])
    assert dry.exit_code == 2
    assert dry.stderr.splitlines() == [
        "Line 4, column “country”: This is not a known country code (ISO 3166-1, two letters such as DE)."]
    assert "Dry run, nothing stored: 3 created, 1 refused." in dry.stdout
    assert count(City) == 0

    french = runner.invoke(args=["capital", "import-cities", str(path), "--language", "fr"])
    assert french.exit_code == 2
    assert french.stderr.startswith("Ligne 4, colonne « country » : Ce n'est pas un code de pays connu")
    assert count(City) == 3
    path.write_bytes(CITIES.replace(b"XX", b"DE"))
    clean = runner.invoke(args=["capital", "import-cities", str(path)])
    assert clean.exit_code == 0, clean.output
    assert "Imported: 1 created, 3 unchanged." in clean.stdout

    people = tmp_path / "people.csv"
    people.write_bytes(PEOPLE)
    invited = runner.invoke(args=["capital", "import-people", str(people)])
    assert invited.exit_code == 2 and invited.stderr.startswith("Line 4, column “city”:")


def test_a_city_name_two_cities_share_needs_its_country_code(db, make_city):
    make_city("Valencia", country="ES", timezone="Europe/Madrid")
    make_city("Valencia", country="VE", timezone="America/Caracas")
    data = ("email,name,role,city\n"
            "a@valencia.es,A,representative,Valencia\n"
            "b@valencia.es,B,representative,Valencia (ES)\n"
            "c@valencia.ve,C,representative,valencia (ve)\n").encode()
    report = onboarding.run_import("people", data, dry_run=True, actor="test", now=NOW)
    assert [line.outcome for line in report.lines] == ["refused", "invited", "invited"]
    assert report.lines[0].problems[0].message.params == {"example": "Valencia (ES)"}


def test_the_tick_restarts_an_import_whose_worker_was_lost_and_no_other(db, make_user):
    from capital.models import ImportJob
    from capital.services.ticks import hand_out_imports

    actor = make_user(Role.SECRETARIAT)
    data = ("name,name_latin,country,time_zone,email\n" + "".join(
        f"C{n},C{n},DE,Europe/Berlin,c{n}@city.example\n" for n in range(onboarding.BACKGROUND_LINES + 1))).encode()
    lost = onboarding.start_import("cities", "lost.csv", data, dry_run=False, actor=actor, now=NOW)
    busy = onboarding.start_import("cities", "busy.csv", data, dry_run=True, actor=actor, now=NOW)
    db.session.commit()  # not dispatch's commit: neither task starts
    lost.state, lost.lines_done, lost.heartbeat_dt = "running", 200, NOW  # its worker died after 200 lines
    busy.state, busy.heartbeat_dt = "running", NOW + timedelta(minutes=14)  # still reporting progress
    db.session.commit()

    later = NOW + timedelta(minutes=15)
    assert hand_out_imports(later) == 1
    commit()  # the in-process task runs the lost job again
    db.session.expire_all()
    lost, busy = db.session.get(ImportJob, lost.id), db.session.get(ImportJob, busy.id)
    assert lost.state == "done" and onboarding.report_of(lost).counts()["created"] == 301
    assert busy.state == "running" and busy.report is None
    assert count(City) == 301
    onboarding.run_job(busy.id, later)  # a second worker leaves a live job alone
    assert db.session.get(ImportJob, busy.id).state == "running"


def test_the_export_never_hands_a_spreadsheet_a_formula_and_still_reads_back(db, make_city):
    city = make_city("=HYPERLINK(\"http://evil.example\")", country="ES", timezone="Europe/Madrid")
    city.longitude = -4.77
    db.session.commit()
    exported = "".join(onboarding.export_cities())
    assert "'=HYPERLINK" in exported and ",-4.77," in exported
    report = onboarding.run_import("cities", exported.encode(), dry_run=True, actor="test", now=NOW)
    assert [line.outcome for line in report.lines] == ["unchanged"]
