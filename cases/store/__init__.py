"""Persistence of cases: SQLModel tables, the repository, and the history audit."""

# The execution option of a unit of work that writes: relais.db opens its transaction with
# BEGIN IMMEDIATE on SQLite; reads get a deferred BEGIN and never block writers.
WRITE = {"relais_write": True}
