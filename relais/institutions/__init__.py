"""Who takes part: the registry of institutions, their kinds, roles, and working-day calendars."""
