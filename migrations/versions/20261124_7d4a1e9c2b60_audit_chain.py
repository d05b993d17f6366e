"""audit_log.seq, prev_hash, entry_hash: the audit log chained by hash

Revision ID: 7d4a1e9c2b60
Revises: 5b7e2c9d41a3
Create Date: 2026-11-24 04:10:00

Entries already in the log are chained in id order.
"""
from alembic import op
import sqlalchemy as sa

from capital.domain.audit_chain import FIELDS, GENESIS, entry_hash


revision = '7d4a1e9c2b60'
down_revision = '5b7e2c9d41a3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('entry_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_audit_log_seq'), ['seq'])

    audit_log = sa.table(
        'audit_log', sa.column('id', sa.Integer), sa.column('dt', sa.DateTime(timezone=True)),
        sa.column('actor_id', sa.Integer), sa.column('actor_label', sa.String),
        sa.column('action', sa.String), sa.column('object_type', sa.String), sa.column('object_id', sa.String),
        sa.column('cycle_id', sa.Integer), sa.column('data', sa.JSON), sa.column('seq', sa.Integer),
        sa.column('prev_hash', sa.String), sa.column('entry_hash', sa.String),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(*(audit_log.c[name] for name in FIELDS if name != 'seq'))
                              .order_by(audit_log.c.id)).mappings().all()
    prev = GENESIS
    for seq, row in enumerate(rows, start=1):
        fields = dict(row, seq=seq)
        digest = entry_hash(fields, prev)
        connection.execute(audit_log.update().where(audit_log.c.id == row['id'])
                           .values(seq=seq, prev_hash=prev, entry_hash=digest))
        prev = digest


def downgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_log_seq'), type_='unique')
        batch_op.drop_column('entry_hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')
