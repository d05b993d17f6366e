"""The migrations build the whole schema from nothing, and agree with the models."""

import re

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from capital.extensions import db


def _pending_diff(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_postgresql_schema_from_the_migrations_matches_the_models(session_app):
    # session_app's schema was built from an empty database by `flask db upgrade`.
    assert _pending_diff(session_app) == []


def test_sqlite_upgrade_downgrade_upgrade(sqlite_app):
    app = sqlite_app
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert {table.name for table in db.metadata.sorted_tables} <= tables
        assert _pending_diff(app) == []
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert _pending_diff(app) == []


def _enum_columns():
    from capital.models.types import IntEnumType

    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, IntEnumType):
                yield table.name, column.name, column.type.enum


def _check_constraints(connection, table: str) -> dict[str, str]:
    rows = connection.execute(text(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'c' AND conrelid = CAST(:t AS regclass)"
    ), {"t": table})
    return dict(rows.all())


def test_every_enum_column_has_a_check_constraint_with_exactly_the_enum_values(session_app):
    columns = list(_enum_columns())
    assert len(columns) >= 7  # phase, states, roles, statuses, signature forms…
    with session_app.app_context(), db.engine.connect() as connection:
        for table, column, enum in columns:
            definition = _check_constraints(connection, table)[f"ck_{table}_valid_{column}"]
            values = {int(value) for value in re.findall(r"\d+", definition.split("ARRAY", 1)[1])}
            assert values == {int(member) for member in enum}, (table, column, definition)


def test_the_known_methods_constraint_lists_exactly_the_tally_methods(session_app):
    from capital.models import TALLY_METHODS
    from capital.voting import METHODS

    with session_app.app_context(), db.engine.connect() as connection:
        definition = _check_constraints(connection, "cycles")["ck_cycles_known_method"]
    # Every method of the engine but approval, which counts the shortlist and never the final vote.
    assert set(re.findall(r"'(\w+)'", definition)) == set(TALLY_METHODS) == set(METHODS) - {"approval"}
