"""the shortlist vote: a voting round may be the board's approval vote for the shortlist; a finalist's update

Revision ID: e1a3c5b7d9f4
Revises: e1a3c5b7d9f2
Create Date: 2026-12-03 14:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e1a3c5b7d9f4'
down_revision = 'e1a3c5b7d9f2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('voting_rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_shortlist', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_attachments_known_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_attachments_known_kind'), "kind IN ('letter', 'image', 'update')")


def downgrade():
    op.execute("DELETE FROM attachments WHERE kind = 'update'")
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_attachments_known_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_attachments_known_kind'), "kind IN ('letter', 'image')")
    with op.batch_alter_table('voting_rounds', schema=None) as batch_op:
        batch_op.drop_column('is_shortlist')
