"""consents belong to a case and name the institution that recorded them; a case holds the
person's contact as its institution knows it

Revision ID: 0011c
Revises: 0010
Create Date: 2026-12-06 04:10:00

A consent recorded before this revision is attached to the oldest case of its person that
the recording user's institution leads; one nobody can attach stays without a case and
opens nothing (it is listed nowhere; fail closed). The contact held on the person row is
copied to every case of the person, then left out of the person row: from now on a
referral never rewrites what another institution holds.
"""
import sqlalchemy as sa
from alembic import op

revision = '0011c'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('recorded_by_institution', sa.String(length=32), nullable=True))
        batch_op.create_index('ix_consent_case_id', ['case_id'])
    op.execute("""
        UPDATE consent SET recorded_by_institution =
            (SELECT u.institution FROM app_user u WHERE u.name = consent.recorded_by)""")
    op.execute("""
        UPDATE consent SET case_id =
            (SELECT c.id FROM "case" c WHERE c.person_id = consent.person_id
               AND c.lead = consent.recorded_by_institution
             ORDER BY c.opened_at, c.id LIMIT 1)""")
    op.create_table(
        'case_contact',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('case_id', sa.String(length=36), sa.ForeignKey('case.id'), nullable=False,
                  unique=True),
        sa.Column('email', sa.String(length=200), nullable=True),
        sa.Column('phone', sa.String(length=20), nullable=True),
        sa.Column('address', sa.JSON(), nullable=True),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('changed_by', sa.String(length=100), nullable=False),
    )
    op.execute("""
        INSERT INTO case_contact (case_id, email, phone, address, changed_at, changed_by)
        SELECT c.id, p.email, p.phone, p.address, c.opened_at, 'migration 0011c'
        FROM "case" c JOIN person p ON p.id = c.person_id
        WHERE p.email IS NOT NULL OR p.phone IS NOT NULL OR p.address IS NOT NULL""")
    op.execute("UPDATE person SET email = NULL, phone = NULL, address = NULL")


def downgrade() -> None:
    op.drop_table('case_contact')
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_case_id')
        batch_op.drop_column('recorded_by_institution')
        batch_op.drop_column('case_id')
