"""criteria, assessments, assessment_scores; the assessor role

Revision ID: c4e6a8b0d2f1
Revises: e1a3c5b7d9f4
Create Date: 2026-12-03 14:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c4e6a8b0d2f1'
down_revision = 'e1a3c5b7d9f4'
branch_labels = None
depends_on = None

ROLE_TABLES = ('role_grants', 'invitations')


def _role_check(values: str) -> None:
    for table in ROLE_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_valid_role'), type_='check')
            batch_op.create_check_constraint(op.f(f'ck_{table}_valid_role'), sa.text(f'role IN ({values})'))


def upgrade():
    op.create_table(
        'criteria',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cycle_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('texts', sa.JSON(), nullable=False),
        sa.Column('scale_min', sa.Integer(), nullable=False),
        sa.Column('scale_max', sa.Integer(), nullable=False),
        sa.Column('weight', sa.Numeric(precision=6, scale=2), nullable=False),
        sa.CheckConstraint('scale_min >= 0 AND scale_min < scale_max', name=op.f('ck_criteria_scale_order')),
        sa.CheckConstraint('weight > 0', name=op.f('ck_criteria_weight_positive')),
        sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_criteria_cycle_id_cycles'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_criteria')),
    )
    with op.batch_alter_table('criteria', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_criteria_cycle_id'), ['cycle_id'], unique=False)
    op.create_table(
        'assessments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cycle_id', sa.Integer(), nullable=False),
        sa.Column('assessor_id', sa.Integer(), nullable=False),
        sa.Column('created_dt', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_dt', sa.DateTime(timezone=True), nullable=False),
        sa.Column('submitted_dt', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['assessor_id'], ['users.id'], name=op.f('fk_assessments_assessor_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_assessments_cycle_id_cycles'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments')),
        sa.UniqueConstraint('cycle_id', 'assessor_id', name=op.f('uq_assessments_cycle_id_assessor_id')),
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessments_assessor_id'), ['assessor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessments_cycle_id'), ['cycle_id'], unique=False)
    op.create_table(
        'assessment_scores',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('assessment_id', sa.Integer(), nullable=False),
        sa.Column('nomination_id', sa.Integer(), nullable=False),
        sa.Column('criterion_id', sa.Integer(), nullable=False),
        sa.Column('score', sa.Integer(), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'],
                                name=op.f('fk_assessment_scores_assessment_id_assessments'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['criterion_id'], ['criteria.id'],
                                name=op.f('fk_assessment_scores_criterion_id_criteria'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['nomination_id'], ['nominations.id'],
                                name=op.f('fk_assessment_scores_nomination_id_nominations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_scores')),
        sa.UniqueConstraint('assessment_id', 'nomination_id', 'criterion_id',
                            name=op.f('uq_assessment_scores_assessment_id_nomination_id_criterion_id')),
    )
    with op.batch_alter_table('assessment_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_scores_assessment_id'), ['assessment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_scores_criterion_id'), ['criterion_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_scores_nomination_id'), ['nomination_id'], unique=False)
    _role_check('1, 2, 3, 4, 5')


def downgrade():
    op.execute("DELETE FROM role_grants WHERE role = 4")
    op.execute("DELETE FROM invitations WHERE role = 4")
    _role_check('1, 2, 3, 5')
    op.drop_table('assessment_scores')
    op.drop_table('assessments')
    op.drop_table('criteria')
