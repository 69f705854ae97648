"""The demonstration network (``relais demo``): a realistic, reproducible cohort of cases
over several years, lived through the case services on a simulated clock. See docs/demo.md."""

from .loader import SEED, LoadReport, NotEmpty, Options, load

__all__ = ["SEED", "LoadReport", "NotEmpty", "Options", "load"]
