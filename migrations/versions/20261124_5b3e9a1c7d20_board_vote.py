"""board vote: the frozen roll, the tie-break seed, the counted ballot file, designations

Revision ID: 5b3e9a1c7d20
Revises: 82166295ac98
Create Date: 2026-11-24 02:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '5b3e9a1c7d20'
down_revision = '82166295ac98'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cycles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('no_capital_reason', sa.String(length=40), nullable=True))
    with op.batch_alter_table('voting_rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tie_break_seed', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('roll', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ballot_file', sa.Text(), nullable=False, server_default=''))
    op.create_table('designations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('nomination_id', sa.Integer(), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=False),
    sa.Column('is_runner_up', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('designated_by_id', sa.Integer(), nullable=True),
    sa.Column('designated_dt', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['city_id'], ['cities.id'], name=op.f('fk_designations_city_id_cities'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_designations_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['designated_by_id'], ['users.id'], name=op.f('fk_designations_designated_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['nomination_id'], ['nominations.id'], name=op.f('fk_designations_nomination_id_nominations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_designations'))
    )
    with op.batch_alter_table('designations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_designations_cycle_id'), ['cycle_id'], unique=False)


def downgrade():
    with op.batch_alter_table('designations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_designations_cycle_id'))
    op.drop_table('designations')
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.drop_column('ballot_file')
    with op.batch_alter_table('voting_rounds', schema=None) as batch_op:
        batch_op.drop_column('roll')
        batch_op.drop_column('tie_break_seed')
    with op.batch_alter_table('cycles', schema=None) as batch_op:
        batch_op.drop_column('no_capital_reason')
