"""the outbox without foreign keys, and a city's mail history indexed only for mail about a city

A group mail writes up to a million rows; each foreign key was checked (a lookup and a row lock
of its parent) on every row written, which halved the writing speed. The parents are never
deleted. The subscribers' mails, about no city, leave the city-history index alone; the cycle
index served only the cycle's foreign key.

Revision ID: c5e7a9b1d3f4
Revises: 3ab89224ce8f
Create Date: 2026-12-03 14:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c5e7a9b1d3f4'
down_revision = '3ab89224ce8f'
branch_labels = None
depends_on = None

FOREIGN_KEYS = (  # (column, table, on delete)
    ('cycle_id', 'cycles', 'SET NULL'), ('city_id', 'cities', 'SET NULL'), ('mailing_id', 'mailings', 'CASCADE'),
    ('part_id', 'mailing_parts', 'SET NULL'), ('subscriber_id', 'subscribers', 'SET NULL'))
ABOUT_A_CITY = sa.text("city_id IS NOT NULL")


def upgrade():
    with op.batch_alter_table('mails', schema=None) as batch_op:
        for column, table, _ in FOREIGN_KEYS:
            batch_op.drop_constraint(f'fk_mails_{column}_{table}', type_='foreignkey')
        batch_op.drop_index('ix_mails_cycle_id')
        batch_op.drop_index('ix_mails_city_recorded')
        batch_op.create_index('ix_mails_city_recorded', ['city_id', 'created_dt'], unique=False,
                              postgresql_where=ABOUT_A_CITY, sqlite_where=ABOUT_A_CITY)


def downgrade():
    with op.batch_alter_table('mails', schema=None) as batch_op:
        batch_op.drop_index('ix_mails_city_recorded')
        batch_op.create_index('ix_mails_city_recorded', ['city_id', 'created_dt'], unique=False)
        batch_op.create_index('ix_mails_cycle_id', ['cycle_id'], unique=False)
        for column, table, on_delete in FOREIGN_KEYS:
            batch_op.create_foreign_key(f'fk_mails_{column}_{table}', table, [column], ['id'], ondelete=on_delete)
