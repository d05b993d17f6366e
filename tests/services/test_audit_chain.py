"""The audit log is chained by hash: editing, removing or reordering entries in the database is reported."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, text

from capital.models import AuditEntry
from capital.services.audit import record
from tests.conftest import at_once

NOW = datetime(2031, 3, 2, 9, 30, 15, 123456, tzinfo=timezone.utc)


def _log(db, count: int, start: int = 0) -> list[int]:
    entries = [record("city.updated", f"city-{start + i}", actor="cli", now=NOW + timedelta(seconds=i),
                      data={"name": f"Ville {start + i}", "fields": ["name", "région"]})
               for i in range(count)]
    db.session.commit()
    return [entry.id for entry in entries]


def _verify(app):
    return app.test_cli_runner().invoke(args=["capital", "audit", "verify"])


def _tamper(app, db, *statements: tuple[str, dict]):
    """Run ``statements`` straight on the database, as someone editing it by hand would; then verify."""
    with db.engine.begin() as connection:
        for statement, params in statements:
            connection.execute(text(statement), params)
    db.session.remove()
    result = _verify(app)
    assert result.exit_code == 1
    return result.output


def test_an_intact_log_verifies_with_a_summary(app, db):
    _log(db, 5)
    result = _verify(app)
    assert result.exit_code == 0, result.output
    head = db.session.scalar(select(AuditEntry.entry_hash).where(AuditEntry.seq == 5))
    assert result.output.strip() == f"audit log intact: 5 entries; head: sequence number 5, hash {head}"


def test_entries_are_chained_in_order_from_the_first(db):
    ids = _log(db, 3)
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [entry.id for entry in entries] == ids
    assert [entry.seq for entry in entries] == [1, 2, 3]
    assert entries[0].prev_hash == "0" * 64
    assert entries[1].prev_hash == entries[0].entry_hash and entries[2].prev_hash == entries[1].entry_hash
    assert len({entry.entry_hash for entry in entries}) == 3


def test_an_edited_entry_is_reported(app, db):
    ids = _log(db, 4)
    output = _tamper(app, db, ("""UPDATE audit_log SET data = '{"name": "Ville X", "fields": ["name", "région"]}'
                                  WHERE id = :id""", {"id": ids[2]}))
    assert f"broken at entry id {ids[2]} (sequence number 3): content does not match its hash" in output


def test_an_edited_actor_or_time_is_reported(app, db):
    ids = _log(db, 3)
    output = _tamper(app, db, ("UPDATE audit_log SET dt = dt + interval '1 second' WHERE id = :id", {"id": ids[0]}))
    assert f"broken at entry id {ids[0]} (sequence number 1): content does not match its hash" in output


def test_a_deleted_entry_is_reported_at_the_next_one(app, db):
    ids = _log(db, 5)
    output = _tamper(app, db, ("DELETE FROM audit_log WHERE id = :id", {"id": ids[1]}))
    assert f"broken at entry id {ids[2]} (sequence number 3): sequence number 3 where 2 was expected" in output


def test_a_deleted_entry_with_renumbered_sequence_is_still_reported(app, db):
    ids = _log(db, 4)
    output = _tamper(app, db, ("DELETE FROM audit_log WHERE id = :id", {"id": ids[1]}),
                     ("UPDATE audit_log SET seq = seq - 1 WHERE seq > 2", {}))
    assert f"broken at entry id {ids[2]} (sequence number 2): previous hash does not match" in output


def test_two_swapped_entries_are_reported(app, db):
    ids = _log(db, 5)
    # the 2nd and 4th entries change places in the chain
    output = _tamper(app, db, ("UPDATE audit_log SET seq = -seq WHERE id IN (:a, :b)", {"a": ids[1], "b": ids[3]}),
                     ("UPDATE audit_log SET seq = 4 WHERE id = :a", {"a": ids[1]}),
                     ("UPDATE audit_log SET seq = 2 WHERE id = :b", {"b": ids[3]}))
    assert f"broken at entry id {ids[3]} (sequence number 2): previous hash does not match" in output


def test_two_entries_with_swapped_contents_are_reported(app, db):
    ids = _log(db, 4)
    columns = "dt, actor_id, actor_label, action, object_type, object_id, cycle_id, data, seq, prev_hash, entry_hash"
    with db.engine.begin() as connection:  # the rows keep their ids, everything else changes places
        first, second = (connection.execute(text(f"SELECT {columns} FROM audit_log WHERE id = :id"),
                                            {"id": ident}).mappings().one() for ident in (ids[0], ids[1]))
        connection.execute(text("UPDATE audit_log SET seq = NULL WHERE id IN (:a, :b)"), {"a": ids[0], "b": ids[1]})
        for ident, row in ((ids[0], second), (ids[1], first)):
            assignments = ", ".join(f"{name} = :{name}" for name in row.keys() if name != "data")
            connection.execute(text(f"UPDATE audit_log SET {assignments}, data = CAST(:data AS json) WHERE id = :id"),
                               {**dict(row), "data": json.dumps(row["data"]), "id": ident})
    db.session.remove()
    result = _verify(app)
    assert result.exit_code == 1
    assert f"broken at entry id {ids[1]} (sequence number 1): content does not match its hash" in result.output


def test_concurrent_writers_append_one_after_the_other(app, db):
    def append():
        ids = []
        for _ in range(5):
            ids += _log(db, 2)
        return ids

    written = at_once(app, append, count=6)
    db.session.remove()
    seqs = db.session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)).all()
    assert seqs == list(range(1, 61))
    assert sorted(sum(written, [])) == db.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert "60 entries" in result.output


def test_an_uncommitted_entry_is_not_chained_until_commit(db):
    _log(db, 1)
    entry = record("city.created", "city-x", actor="cli", now=NOW)
    db.session.flush()
    assert entry.seq is None
    db.session.commit()
    assert entry.seq == 2


def test_the_chain_holds_on_sqlite_built_by_the_migrations(sqlite_app):
    from capital.extensions import db

    with sqlite_app.app_context():
        _log(db, 3)
        _log(db, 2, start=3)
        db.session.remove()
        result = _verify(sqlite_app)
        assert result.exit_code == 0, result.output
        assert "5 entries" in result.output
        db.session.execute(text("UPDATE audit_log SET object_id = 'city-9' WHERE seq = 4"))
        db.session.commit()
        result = _verify(sqlite_app)
        assert result.exit_code == 1
        assert "(sequence number 4): content does not match its hash" in result.output


def test_the_migration_chains_the_entries_already_logged(tmp_path, _catalogs):
    from flask_migrate import downgrade, upgrade

    from capital import create_app
    from capital.extensions import db
    from tests.conftest import dispose, make_config

    app = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'capital.db'}"))
    with app.app_context():
        upgrade(revision="5b7e2c9d41a3")
        for i in range(3):
            db.session.execute(text("""INSERT INTO audit_log (dt, actor_label, action, object_type, object_id, data)
                                       VALUES (:dt, 'cli', 'city.created', 'str', :object_id, '{"n": 1}')"""),
                               {"dt": (NOW + timedelta(minutes=i)).replace(tzinfo=None), "object_id": f"city-{i}"})
        db.session.commit()
        upgrade()
        result = _verify(app)
        assert result.exit_code == 0, result.output
        assert "3 entries" in result.output
        _log(db, 1)
        assert "4 entries" in _verify(app).output
        downgrade(revision="5b7e2c9d41a3")
        assert db.session.execute(text("SELECT count(*) FROM audit_log")).scalar() == 4
    dispose(app)
