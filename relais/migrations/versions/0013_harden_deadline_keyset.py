"""the due deadlines in (status, due_at, case_id) order: the sweep pages by that key

The sweep read "the first N due deadlines" again and again, leaving out the cases it had
seen; N skipped cases at the head hid every due case behind them. It now pages by
(due_at, case_id), which this index serves as one range per page, ties included (deadlines
end at local midnight: thousands fall due at the same instant).

Revision ID: 0011h
Revises: 0011s
Create Date: 2026-12-08 10:00:00
"""
from alembic import op

revision = '0011h'
down_revision = '0011s'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.create_index('ix_deadline_status_due_case', ['status', 'due_at', 'case_id'],
                              unique=False)
        batch_op.drop_index('ix_deadline_status_due')


def downgrade() -> None:
    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.create_index('ix_deadline_status_due', ['status', 'due_at'], unique=False)
        batch_op.drop_index('ix_deadline_status_due_case')
