"""the shortlist vote: a voting round may be the board's approval vote for the shortlist

Revision ID: c4e6a8b0d2f5
Revises: e6a8c0d2f4b7
Create Date: 2026-12-03 14:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c4e6a8b0d2f5'
down_revision = 'e6a8c0d2f4b7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('voting_rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_shortlist', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('voting_rounds', schema=None) as batch_op:
        batch_op.drop_column('is_shortlist')
