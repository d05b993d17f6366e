"""the language of a person's mail, apart from the interface language

Revision ID: 3c5e8a1f7b20
Revises: 5e55a0c1d2b3
Create Date: 2026-11-24 03:10:00

Until now the header's language switch also changed the language of a person's official mail.
Existing accounts keep receiving mail in the language they had chosen.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c5e8a1f7b20'
down_revision = '5e55a0c1d2b3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mail_locale', sa.String(length=8), nullable=True))
    op.execute("UPDATE users SET mail_locale = locale WHERE locale IS NOT NULL")


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('mail_locale')
