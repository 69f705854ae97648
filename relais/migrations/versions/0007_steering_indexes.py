"""steering indexes: a period's events by kind, the move that began a stay, cases by closing

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 21:01:25.186541
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.create_index('ix_case_closed_at', ['closed_at'], unique=False, postgresql_include=['opened_at', 'route_id', 'state', 'outcome', 'id'])

    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.create_index('ix_case_event_kind_at', ['kind', 'at'], unique=False, postgresql_include=['case_id', 'seq', 'institution', 'from_state', 'to_state', 'route_version'])
        batch_op.create_index('ix_case_event_moves', ['case_id', 'seq'], unique=False, postgresql_include=['at', 'from_state', 'to_state'], postgresql_where=sa.text("kind IN ('case_opened', 'transitioned', 'handoff_accepted')"), sqlite_where=sa.text("kind IN ('case_opened', 'transitioned', 'handoff_accepted')"))


def downgrade() -> None:
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_index('ix_case_event_moves')
        batch_op.drop_index('ix_case_event_kind_at')

    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index('ix_case_closed_at')
