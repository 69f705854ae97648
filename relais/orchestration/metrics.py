"""What the orchestration measures of itself, in this process (Prometheus): each action's
duration and outcome, each sweep's duration. ``/metrics`` of an API process that runs the
orchestration embedded shows them; ``relais worker --metrics-port`` serves a worker's."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

ACTION_SECONDS = Histogram(
    "relais_action_duration_seconds", "Time an action took, by action and outcome",
    ["action", "outcome"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300))
SWEEP_SECONDS = Histogram(
    "relais_sweep_duration_seconds", "Time a deadline sweep took",
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60))
SWEPT_EVENTS = Counter("relais_sweep_events", "Events the deadline sweeps recorded")
