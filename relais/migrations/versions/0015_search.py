"""the search key of a person's names (finding "Đorđević" by typing "Djordjevic")

Revision ID: 0015
Revises: 0011l
Create Date: 2026-12-06 21:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0011l'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ALTER TABLE (no batch copy of the table, which its foreign keys forbid on SQLite)
    op.add_column('person', sa.Column('search_key', sa.String(length=210), nullable=True))
    op.create_index(op.f('ix_person_search_key'), 'person', ['search_key'], unique=False)
    # the people already there: their key written as identify writes it (cases.domain.search)
    from relais.cases.domain.search import name_key
    conn = op.get_bind()
    person = sa.table('person', sa.column('id', sa.Integer), sa.column('official_name'),
                      sa.column('first_name'), sa.column('search_key'))
    rows = conn.execute(sa.select(person.c.id, person.c.official_name,
                                  person.c.first_name)).all()
    for r in rows:
        conn.execute(person.update().where(person.c.id == r.id)
                     .values(search_key=name_key(r.official_name, r.first_name)))


def downgrade() -> None:
    op.drop_index(op.f('ix_person_search_key'), table_name='person')
    op.drop_column('person', 'search_key')  # SQLite 3.35 and later
