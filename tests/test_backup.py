"""`capital export` / `capital import`: everything round-trips, SQLite → PostgreSQL, ballots' secrecy included."""

import hashlib
import io
import json
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text

from capital.domain.roles import Role
from capital.models import Cycle
from capital.services import nominations, voting
from tests.conftest import _truncate_all, pdf_bytes

FILED = datetime(2030, 11, 2, 9, 30, 15, 123456, tzinfo=UTC)

def dump(app) -> dict[str, list[tuple]]:
    """Every table's rows, in primary-key order, as the models read them."""
    from capital.extensions import db

    with app.app_context(), db.engine.connect() as connection:
        return {table.name: [tuple(row) for row in connection.execute(
                    select(table).order_by(*table.primary_key.columns))]
                for table in db.metadata.sorted_tables}

def cli(app, args):
    """Run a CLI command on ``app`` (the runner would reuse the test's PostgreSQL app context)."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=args)


def files(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()}

def build_source(sqlite_app, db, make_vote, make_cycle, make_city, make_user):
    """On SQLite, through the real services: a vote opened, cast and closed, and a nomination with its letter."""
    with sqlite_app.app_context():
        vote = make_vote()
        vote.open()
        cycle = db.session.get(Cycle, vote.cycle_id)
        ids = vote.ids()
        rankings = [((ids["Palermo"],), (ids["Venlo"], ids["Lyon"])), ((ids["Lyon"],),), ((ids["Venlo"],),)]
        for member, ranking in zip(vote.members, rankings):
            voting.cast_ballot(cycle, member, ranking, now=vote.OPENS + timedelta(hours=1))
            db.session.commit()
        vote.close()
        open_cycle = make_cycle(year=2030, now=FILED)
        city = make_city("Tartu", country="EE", timezone="Europe/Tallinn")
        city.latitude, city.longitude = 58.378025, 26.728493
        rep = make_user(Role.REPRESENTATIVE, city=city, name="Kärt Õun")
        nomination = nominations.start_nomination(open_cycle, city, city, actor=rep, now=FILED)
        nominations.attach_file(nomination, "letter", "kiri.pdf", pdf_bytes(2), actor=rep, now=FILED)
        db.session.commit()

def test_export_then_import_restores_every_row_and_file_from_sqlite_into_postgresql(
        tmp_path, app, db, sqlite_app, make_vote, make_cycle, make_city, make_user):
    build_source(sqlite_app, db, make_vote, make_cycle, make_city, make_user)
    archive = tmp_path / "backup.tar.gz"
    exported = cli(sqlite_app, ["capital", "export", str(archive)])
    assert exported.exit_code == 0, exported.output

    source, target = dump(sqlite_app), dump(app)
    assert all(rows == [] for rows in target.values())
    assert len(source["ballots"]) == 3 and len(source["attachments"]) == 1 and source["audit_log"]
    imported = cli(app, ["capital", "import", str(archive)])
    assert imported.exit_code == 0, imported.output
    assert dump(app) == source
    source_files = files(sqlite_app.config["UPLOAD_DIR"])
    assert len(source_files) == 1 and files(app.config["UPLOAD_DIR"]) == source_files
    with app.app_context():
        restored = db.session.scalar(text("SELECT uploaded_dt FROM attachments"))
    assert restored == FILED  # microseconds and the UTC offset kept
    verified = cli(app, ["capital", "audit", "verify"])
    assert verified.exit_code == 0 and "audit log intact" in verified.output
    # The sequences moved past the restored keys: new rows get new ids.
    with app.app_context():
        newcomer = make_user(Role.BOARD)
        assert newcomer.id > max(row[0] for row in source["users"])

def test_the_archive_keeps_ballots_in_key_order_and_adds_nothing_that_names_a_voter(
        tmp_path, app, db, sqlite_app, make_vote, make_cycle, make_city, make_user):
    build_source(sqlite_app, db, make_vote, make_cycle, make_city, make_user)
    archive = tmp_path / "backup.tar.gz"
    assert cli(sqlite_app, ["capital", "export", str(archive)]).exit_code == 0
    with tarfile.open(archive) as bundle:
        manifest = json.load(bundle.extractfile("manifest.json"))
        ballots = [json.loads(line) for line in bundle.extractfile("tables/ballots.jsonl")]
        names = bundle.getnames()
    assert manifest["tables"]["ballots"] == {"rows": 3, "columns": ["id", "round_id", "receipt_code", "ranking",
                                                                    "voter_id", "replacement_hash"]}
    assert [ballot["id"] for ballot in ballots] == sorted(ballot["id"] for ballot in ballots)
    assert all(ballot["voter_id"] is None for ballot in ballots)  # a secret vote
    assert manifest["alembic_revision"] and set(manifest["members"]) == set(names) - {"manifest.json"}
    assert cli(app, ["capital", "import", str(archive)]).exit_code == 0
    with app.app_context():
        stored = db.session.execute(text("SELECT id FROM ballots")).scalars().all()
    assert sorted(stored) == [ballot["id"] for ballot in ballots]

def test_import_into_a_database_with_rows_is_refused_and_changes_nothing(
        tmp_path, app, db, sqlite_app, make_vote, make_cycle, make_city, make_user):
    build_source(sqlite_app, db, make_vote, make_cycle, make_city, make_user)
    archive = tmp_path / "backup.tar.gz"
    assert cli(sqlite_app, ["capital", "export", str(archive)]).exit_code == 0
    make_user(Role.SECRETARIAT)  # on PostgreSQL
    before, before_files = dump(app), files(app.config["UPLOAD_DIR"])
    refused = cli(app, ["capital", "import", str(archive)])
    assert refused.exit_code != 0
    assert "not empty" in refused.output and "users" in refused.output
    assert dump(app) == before and files(app.config["UPLOAD_DIR"]) == before_files

def test_import_at_another_schema_revision_or_of_a_damaged_archive_is_refused(tmp_path, app, db, sqlite_app):
    archive = tmp_path / "backup.tar.gz"
    assert cli(sqlite_app, ["capital", "export", str(archive)]).exit_code == 0
    with app.app_context(), db.engine.begin() as connection:
        head = connection.scalar(text("SELECT version_num FROM alembic_version"))
        connection.execute(text("UPDATE alembic_version SET version_num = 'elsewhere'"))
    try:
        refused = cli(app, ["capital", "import", str(archive)])
    finally:
        with app.app_context(), db.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    assert refused.exit_code != 0 and "schema revision" in refused.output and "elsewhere" in refused.output

    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as original, tarfile.open(damaged, "w:gz") as copy:
        for member in original:
            data = original.extractfile(member).read()
            if member.name == "tables/cities.jsonl":
                data += b"{}\n"
            member.size = len(data)

            copy.addfile(member, io.BytesIO(data))
    refused = cli(app, ["capital", "import", str(damaged)])
    assert refused.exit_code != 0 and "checksum" in refused.output
    assert all(rows == [] for rows in dump(app).values())


def test_a_postgresql_export_restores_into_the_same_database_emptied(tmp_path, app, db, make_vote, make_user):
    vote = make_vote()
    vote.open()
    cycle = db.session.get(Cycle, vote.cycle_id)
    voting.cast_ballot(cycle, vote.members[0], ((vote.ids()["Lyon"],),), now=vote.OPENS + timedelta(hours=2))
    db.session.commit()
    archive = tmp_path / "backup.tar.gz"
    exported = cli(app, ["capital", "export", str(archive)])
    assert exported.exit_code == 0, exported.output
    before = dump(app)
    _truncate_all(app)
    imported = cli(app, ["capital", "import", str(archive)])
    assert imported.exit_code == 0, imported.output
    assert dump(app) == before and len(before["ballots"]) == 1
    assert cli(app, ["capital", "audit", "verify"]).exit_code == 0


def test_an_archive_naming_a_file_outside_the_upload_directory_is_refused(tmp_path, app, db, sqlite_app):
    archive = tmp_path / "backup.tar.gz"
    assert cli(sqlite_app, ["capital", "export", str(archive)]).exit_code == 0
    crafted = tmp_path / "crafted.tar.gz"
    evil, payload = "uploads/../../escaped.txt", b"outside"
    with tarfile.open(archive) as original, tarfile.open(crafted, "w:gz") as copy:
        for member in original:
            data = original.extractfile(member).read()
            if member.name == "manifest.json":
                manifest = json.loads(data)
                manifest["members"][evil] = hashlib.sha256(payload).hexdigest()
                data = json.dumps(manifest).encode()
            member.size = len(data)
            copy.addfile(member, io.BytesIO(data))
        extra = tarfile.TarInfo(evil)
        extra.size = len(payload)
        copy.addfile(extra, io.BytesIO(payload))
    refused = cli(app, ["capital", "import", str(crafted)])
    assert refused.exit_code != 0 and "unsafe path" in refused.output
    assert not (Path(app.config["UPLOAD_DIR"]).parent / "escaped.txt").exists()
    assert all(rows == [] for rows in dump(app).values())
