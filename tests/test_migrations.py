"""The migrations build the whole schema from nothing, and agree with the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

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
