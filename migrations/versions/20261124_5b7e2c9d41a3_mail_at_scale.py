"""mail at scale: mailings to subscribers, nomination reminder days

Revision ID: 5b7e2c9d41a3
Revises: 3b9f1c2d7a10
Create Date: 2026-11-24 03:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '5b7e2c9d41a3'
down_revision = '3b9f1c2d7a10'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mailings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=50), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=True),
    sa.Column('contents', sa.JSON(), nullable=False),
    sa.Column('next_subscriber_id', sa.Integer(), nullable=False),
    sa.Column('last_subscriber_id', sa.Integer(), nullable=False),
    sa.Column('created_dt', sa.DateTime(timezone=True), nullable=False),
    sa.Column('written_dt', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_mailings_cycle_id_cycles'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mailings')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_mailings_dedupe_key'))
    )
    with op.batch_alter_table('mailings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mailings_cycle_id'), ['cycle_id'], unique=False)

    with op.batch_alter_table('mails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mailing_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('subscriber_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_mails_mailing_id'), ['mailing_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mails_subscriber_id'), ['subscriber_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_mails_mailing_id_mailings'), 'mailings', ['mailing_id'], ['id'],
                                    ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_mails_subscriber_id_subscribers'), 'subscribers',
                                    ['subscriber_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('cycles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nomination_reminder_days', sa.JSON(), nullable=False,
                                      server_default='[14, 3, 1]'))
        batch_op.add_column(sa.Column('nomination_reminders_done', sa.JSON(), nullable=False,
                                      server_default='[]'))


def downgrade():
    with op.batch_alter_table('cycles', schema=None) as batch_op:
        batch_op.drop_column('nomination_reminders_done')
        batch_op.drop_column('nomination_reminder_days')

    with op.batch_alter_table('mails', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_mails_subscriber_id_subscribers'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_mails_mailing_id_mailings'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_mails_subscriber_id'))
        batch_op.drop_index(batch_op.f('ix_mails_mailing_id'))
        batch_op.drop_column('subscriber_id')
        batch_op.drop_column('mailing_id')

    with op.batch_alter_table('mailings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mailings_cycle_id'))

    op.drop_table('mailings')
