"""The case aggregate as plain Python: decide what happens, record it as events, evolve."""
