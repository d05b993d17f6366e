"""users.session_generation: ending every session of a person at once

Revision ID: 5e55a0c1d2b3
Revises: 5b3e9a1c7d20
Create Date: 2026-11-24 03:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '5e55a0c1d2b3'
down_revision = '5b3e9a1c7d20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
