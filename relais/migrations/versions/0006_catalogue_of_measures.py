"""catalogue of measures: programmes, places, case measures

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 20:29:16.846417
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('programme',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('title', sa.JSON(), nullable=False),
    sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('payer', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('unit_cost_chf', sa.Integer(), nullable=False),
    sa.Column('duration_months', sa.Integer(), nullable=False),
    sa.Column('routes', sa.JSON(), nullable=False),
    sa.Column('eligibility', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('programme_place',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['programme'], ['programme.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('programme', 'period_start')
    )
    op.create_table('case_measure',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('programme', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('place_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('queue_no', sa.Integer(), nullable=False),
    sa.Column('offered', sa.Boolean(), nullable=False),
    sa.Column('payer', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('unit_cost_chf', sa.Integer(), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.ForeignKeyConstraint(['place_id'], ['programme_place.id'], ),
    sa.ForeignKeyConstraint(['programme'], ['programme.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_measure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_measure_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_case_measure_place_status', ['place_id', 'status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('case_measure', schema=None) as batch_op:
        batch_op.drop_index('ix_case_measure_place_status')
        batch_op.drop_index(batch_op.f('ix_case_measure_case_id'))

    op.drop_table('case_measure')
    op.drop_table('programme_place')
    op.drop_table('programme')
