"""the ledger of who may read what and who read it, and the signed checkpoints

Revision ID: 0011l
Revises: 0011h
Create Date: 2026-12-06 10:00:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0011l'
down_revision = '0011h'
branch_labels = None
depends_on = None

# the rows recorded, with the columns of this revision (cases/store/ledger.py: COVERED): a
# later change of the lists records every row again in a migration of its own
COVERED = {
    "person": ("id", "avs", "official_name", "first_name", "birth_date", "sex", "nationality",
               "email", "phone", "address"),
    "case": ("id", "person_id", "route_id", "opened_at"),
    "case_document": ("id", "case_id", "seq", "key", "name", "kind", "institution", "category",
                      "title", "media_type", "sha256", "created_at"),
    "consent": ("id", "person_id", "grantor", "recipients", "categories", "purpose",
                "valid_from", "valid_until", "revoked_on", "recorded_by", "recorded_at",
                "case_id", "recorded_by_institution"),
    "case_contact": ("id", "case_id", "email", "phone", "address", "changed_at", "changed_by"),
    "data_exchange": ("id", "case_id", "recipient", "category", "legal_basis", "at",
                      "inform_person", "informed_on"),
    "case_read": ("id", "case_id", "user", "institution", "at", "what"),
}


def upgrade() -> None:
    op.create_table('ledger',
    sa.Column('chain', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('ref', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('chain', 'n')
    )
    op.create_table('audit_checkpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('signature', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('heads', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    from relais.cases.store.ledger import backfill
    backfill(op.get_bind(), COVERED)


def downgrade() -> None:
    op.drop_table('audit_checkpoint')
    op.drop_table('ledger')
