"""Persistence of cases: SQLModel tables, the repository, and the history audit."""

# The execution option of a unit of work that writes: relais.db opens its transaction with
# BEGIN IMMEDIATE on SQLite; reads get a deferred BEGIN and never block writers.
WRITE = {"relais_write": True}

# The execution option of a unit of one statement, which is its own transaction: relais.db
# sends no BEGIN on SQLite (the statement runs in autocommit, atomic by itself), so that a
# read or an insert that stands alone costs one statement, not three. PostgreSQL ignores it.
SINGLE = {"relais_single": True}
