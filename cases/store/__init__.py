"""Persistence of cases: SQLModel tables, the repository, and the history audit."""
