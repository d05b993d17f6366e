"""jury_reports, jury_report_texts: the jury report of a cycle and every saved draft

Revision ID: 3ab89224ce8f
Revises: d5f7b9c1e3a4
Create Date: 2026-12-03 13:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = '3ab89224ce8f'
down_revision = 'd5f7b9c1e3a4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('jury_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('rapporteur_id', sa.Integer(), nullable=True),
    sa.Column('first_locale', sa.String(length=5), nullable=True),
    sa.Column('created_dt', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("first_locale IS NULL OR first_locale IN ('en', 'fr', 'de', 'es', 'ar', 'zh', 'ru')", name=op.f('ck_jury_reports_known_first_locale')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_jury_reports_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rapporteur_id'], ['users.id'], name=op.f('fk_jury_reports_rapporteur_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jury_reports')),
    sa.UniqueConstraint('cycle_id', name=op.f('uq_jury_reports_cycle_id'))
    )
    op.create_table('jury_report_texts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('citation', sa.Text(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('finalists', sa.JSON(), nullable=False),
    sa.Column('saved_dt', sa.DateTime(timezone=True), nullable=False),
    sa.Column('saved_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("locale IN ('en', 'fr', 'de', 'es', 'ar', 'zh', 'ru')", name=op.f('ck_jury_report_texts_known_locale')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_jury_report_texts_version_positive')),
    sa.ForeignKeyConstraint(['report_id'], ['jury_reports.id'], name=op.f('fk_jury_report_texts_report_id_jury_reports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['saved_by_id'], ['users.id'], name=op.f('fk_jury_report_texts_saved_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jury_report_texts')),
    sa.UniqueConstraint('report_id', 'locale', 'version', name=op.f('uq_jury_report_texts_report_id_locale_version'))
    )
    with op.batch_alter_table('jury_report_texts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jury_report_texts_report_id'), ['report_id'], unique=False)



def downgrade():
    with op.batch_alter_table('jury_report_texts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jury_report_texts_report_id'))

    op.drop_table('jury_report_texts')
    op.drop_table('jury_reports')
