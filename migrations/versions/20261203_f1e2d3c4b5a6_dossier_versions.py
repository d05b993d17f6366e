"""nominations.version, nomination_revisions (a stale dossier save is refused); import_jobs (CSV onboarding)

Revision ID: f1e2d3c4b5a6
Revises: c5e7a9b1d3f4
Create Date: 2026-12-03 14:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f1e2d3c4b5a6'
down_revision = 'c5e7a9b1d3f4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('nominations') as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    op.create_table(
        'nomination_revisions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('nomination_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('saved_by_id', sa.Integer(), nullable=True),
        sa.Column('saved_dt', sa.DateTime(timezone=True), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['nomination_id'], ['nominations.id'],
                                name=op.f('fk_nomination_revisions_nomination_id_nominations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['saved_by_id'], ['users.id'],
                                name=op.f('fk_nomination_revisions_saved_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_nomination_revisions')),
        sa.UniqueConstraint('nomination_id', 'version', name=op.f('uq_nomination_revisions_nomination_id_version')),
    )
    op.create_table(
        'import_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('is_dry_run', sa.Boolean(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('lines_total', sa.Integer(), nullable=False),
        sa.Column('lines_done', sa.Integer(), nullable=False),
        sa.Column('report', sa.JSON(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_dt', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_dt', sa.DateTime(timezone=True), nullable=True),
        sa.Column('heartbeat_dt', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('cities', 'people')", name=op.f('ck_import_jobs_known_kind')),
        sa.CheckConstraint("state IN ('queued', 'running', 'done')", name=op.f('ck_import_jobs_known_state')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_import_jobs_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_jobs')),
    )


def downgrade():
    op.drop_table('import_jobs')
    op.drop_table('nomination_revisions')
    with op.batch_alter_table('nominations') as batch_op:
        batch_op.drop_column('version')
