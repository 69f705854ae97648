"""server-side sessions of the pages, and sign-in tallies in place of the user lock-out

Revision ID: 0011s
Revises: 0011c
Create Date: 2026-12-08 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0011s'
down_revision = '0011c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the lock-out a stranger could set off is gone: the tallies below replace it
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_signins')

    op.create_table('page_session',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id_hash')
    )
    with op.batch_alter_table('page_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_page_session_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_page_session_user_id'), ['user_id'], unique=False)

    op.create_table('sign_in_tally',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('clear_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('sign_in_tally', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_tally_clear_at'), ['clear_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_signins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('sign_in_tally', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_tally_clear_at'))
    op.drop_table('sign_in_tally')

    with op.batch_alter_table('page_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_page_session_user_id'))
        batch_op.drop_index(batch_op.f('ix_page_session_expires_at'))
    op.drop_table('page_session')
