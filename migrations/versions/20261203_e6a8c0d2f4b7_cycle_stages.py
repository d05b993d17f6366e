"""cycle stages: assessment and shortlist deadlines, has_assessment, shortlist_size, the stage phases

Revision ID: e6a8c0d2f4b7
Revises: d5f7b9c1e3a4
Create Date: 2026-12-03 14:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e6a8c0d2f4b7'
down_revision = 'd5f7b9c1e3a4'
branch_labels = None
depends_on = None

STAGE_DEADLINES = ('assessment_open_dt', 'assessment_close_dt', 'shortlist_open_dt', 'shortlist_close_dt',
                   'shortlist_publication_dt', 'finalist_update_close_dt')
PHASES_BEFORE = "phase IN (1, 2, 3, 4, 5, 6, 7, 8, 9)"
PHASES_AFTER = "phase IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14)"


def upgrade():
    with op.batch_alter_table('cycles', schema=None) as batch_op:
        for name in STAGE_DEADLINES:
            batch_op.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('has_assessment', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('shortlist_size', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_check_constraint(op.f('ck_cycles_shortlist_size_not_negative'), 'shortlist_size >= 0')
        batch_op.drop_constraint(op.f('ck_cycles_valid_phase'), type_='check')
        batch_op.create_check_constraint(op.f('ck_cycles_valid_phase'), PHASES_AFTER)


def downgrade():
    with op.batch_alter_table('cycles', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_cycles_valid_phase'), type_='check')
        batch_op.create_check_constraint(op.f('ck_cycles_valid_phase'), PHASES_BEFORE)
        batch_op.drop_constraint(op.f('ck_cycles_shortlist_size_not_negative'), type_='check')
        batch_op.drop_column('shortlist_size')
        batch_op.drop_column('has_assessment')
        for name in reversed(STAGE_DEADLINES):
            batch_op.drop_column(name)
