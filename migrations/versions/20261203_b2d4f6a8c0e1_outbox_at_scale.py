"""the outbox at a million rows: partial indexes for what is read, keyset order for the mail log

Revision ID: b2d4f6a8c0e1
Revises: a1c3e5f70b92
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b2d4f6a8c0e1'
down_revision = 'a1c3e5f70b92'
branch_labels = None
depends_on = None

UNSENT = sa.text("state IN (1, 2)")
FAILED = sa.text("state = 4")
BODIES_KEPT = sa.text("state = 3 AND (body_text <> '' OR body_html <> '')")


def _partial(batch_op, name, columns, where):
    batch_op.create_index(name, columns, unique=False, postgresql_where=where, sqlite_where=where)


def upgrade():
    with op.batch_alter_table('mails', schema=None) as batch_op:
        batch_op.drop_index('ix_mails_due')
        batch_op.drop_index(batch_op.f('ix_mails_kind'))
        batch_op.drop_index(batch_op.f('ix_mails_city_id'))
        batch_op.drop_index(batch_op.f('ix_mails_mailing_id'))
        _partial(batch_op, 'ix_mails_due', ['next_attempt_dt'], UNSENT)
        _partial(batch_op, 'ix_mails_unsent', ['created_dt', 'id'], UNSENT)
        _partial(batch_op, 'ix_mails_failed', ['created_dt', 'id'], FAILED)
        _partial(batch_op, 'ix_mails_bodies_kept', ['sent_dt'], BODIES_KEPT)
        batch_op.create_index('ix_mails_recorded', ['created_dt', 'id'], unique=False)
        batch_op.create_index('ix_mails_city_recorded', ['city_id', 'created_dt'], unique=False)
        batch_op.create_index('ix_mails_mailing_state', ['mailing_id', 'state'], unique=False)


def downgrade():
    with op.batch_alter_table('mails', schema=None) as batch_op:
        for name in ('ix_mails_mailing_state', 'ix_mails_city_recorded', 'ix_mails_recorded', 'ix_mails_bodies_kept',
                     'ix_mails_failed', 'ix_mails_unsent', 'ix_mails_due'):
            batch_op.drop_index(name)
        batch_op.create_index(batch_op.f('ix_mails_mailing_id'), ['mailing_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mails_city_id'), ['city_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mails_kind'), ['kind'], unique=False)
        batch_op.create_index('ix_mails_due', ['state', 'next_attempt_dt'], unique=False)
