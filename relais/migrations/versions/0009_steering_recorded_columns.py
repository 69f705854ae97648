"""steering columns: each move records when the state it leaves was entered, each change of
lead its sender, new lead and revolving-door flag (cases/store/derived.py); backfilled from
the history

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 07:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

LEAD_CHANGES = "kind IN ('handoff_accepted', 'escalation_settled')"
ALIVE = "coalesce(closed_at, 'infinity'::timestamptz)"  # as cases/steering/counts.py: CLOSES
# the stay a move ends began with the case's last earlier move into a state: found through
# ix_case_event_moves (case_id, seq), as the services find it when they write the move
ENTERED = """UPDATE case_event SET entered_at = (
    SELECT b.at FROM case_event AS b
    WHERE b.case_id = case_event.case_id AND b.seq < case_event.seq
      AND b.kind IN ('case_opened', 'transitioned', 'handoff_accepted')
      AND (b.from_state IS NULL OR b.from_state <> b.to_state)
    ORDER BY b.seq DESC LIMIT 1)
WHERE kind IN ('transitioned', 'handoff_accepted') AND from_state IS NOT NULL
  AND from_state <> to_state AND entered_at IS NULL"""
LEADS = {
    "postgresql": """UPDATE case_event SET lead_from = data -> 'handed_on' ->> -1,
        lead_to = data ->> 'lead', revolving_door = (data ->> 'revolving_door') IS NOT NULL
        WHERE kind IN ('handoff_accepted', 'escalation_settled')""",
    "sqlite": """UPDATE case_event SET lead_from = json_extract(data, '$.handed_on[#-1]'),
        lead_to = json_extract(data, '$.lead'),
        revolving_door = json_extract(data, '$.revolving_door') IS NOT NULL
        WHERE kind IN ('handoff_accepted', 'escalation_settled')""",
}


def upgrade() -> None:
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entered_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('lead_from', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('lead_to', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('revolving_door', sa.Boolean(), nullable=True))
    bind = op.get_bind()
    # before the new indexes: each UPDATE would otherwise maintain them row by row
    bind.execute(sa.text(ENTERED))
    bind.execute(sa.text(LEADS[bind.dialect.name]))
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.create_index('ix_case_event_stays', ['from_state', 'at'], unique=False, postgresql_include=['entered_at', 'case_id', 'to_state', 'route_version'], postgresql_where=sa.text('entered_at IS NOT NULL'), sqlite_where=sa.text('entered_at IS NOT NULL'))
        batch_op.create_index('ix_case_event_leads', ['at'], unique=False, postgresql_include=['case_id', 'lead_from', 'lead_to', 'revolving_door'], postgresql_where=sa.text(LEAD_CHANGES), sqlite_where=sa.text(LEAD_CHANGES))

    if bind.dialect.name == "postgresql":  # the route's cases alive in a period, one range
        op.create_index('ix_case_route_alive', 'case', ['route_id', sa.text(ALIVE)], unique=False, postgresql_include=['opened_at', 'id', 'closed_at'])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index('ix_case_route_alive', table_name='case')
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_index('ix_case_event_leads')
        batch_op.drop_index('ix_case_event_stays')
        batch_op.drop_column('revolving_door')
        batch_op.drop_column('lead_to')
        batch_op.drop_column('lead_from')
        batch_op.drop_column('entered_at')
