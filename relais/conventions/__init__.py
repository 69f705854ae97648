"""Collaboration agreements: who takes part, what each may see, default deadlines and limits."""
