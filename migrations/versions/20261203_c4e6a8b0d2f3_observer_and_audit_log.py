"""the observer role; the audit log read newest first by keyset

Revision ID: c4e6a8b0d2f3
Revises: b2d4f6a8c0e1
Create Date: 2026-12-03 14:00:00

"""
from alembic import op


revision = 'c4e6a8b0d2f3'
down_revision = 'b2d4f6a8c0e1'
branch_labels = None
depends_on = None

ROLES_BEFORE = "role IN (1, 2, 3)"
ROLES_AFTER = "role IN (1, 2, 3, 5)"


def _roles(check: str) -> None:
    for table in ('role_grants', 'invitations'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_valid_role'), type_='check')
            batch_op.create_check_constraint(op.f(f'ck_{table}_valid_role'), check)


def upgrade():
    _roles(ROLES_AFTER)
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_dt'))
        batch_op.create_index('ix_audit_log_recorded', ['dt', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_recorded')
        batch_op.create_index(batch_op.f('ix_audit_log_dt'), ['dt'], unique=False)
    op.execute("DELETE FROM role_grants WHERE role = 5")
    op.execute("DELETE FROM invitations WHERE role = 5")
    _roles(ROLES_BEFORE)
