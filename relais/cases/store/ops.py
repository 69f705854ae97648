"""What an operator watches: the outbox (waiting, running, failed) and the timer lag, the
time from a deadline falling due to the sweep handling it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from relais.cases.domain.context import DEADLINE_PASSED
from relais.cases.store.tables import event_t, outbox_t

from .codec import aware

LAG_SAMPLE = 100_000  # the most recent timer events of the window


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of sorted ``values``."""
    if not values:
        return None
    rank = max(1, -(-len(values) * q // 100))  # ceil without floats
    return values[int(rank) - 1]


def timer_lags(engine: Engine, since: datetime) -> list[float]:
    with engine.connect() as conn:
        rows = conn.execute(select(event_t.c.data).where(event_t.c.at >= since,
                                                         event_t.c.reason == DEADLINE_PASSED)
                            .order_by(event_t.c.at.desc()).limit(LAG_SAMPLE))
        return sorted(float(r[0]["lag_s"]) for r in rows if "lag_s" in (r[0] or {}))


def ops_status(engine: Engine, now: datetime | None = None,
               window: timedelta = timedelta(hours=24)) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    with engine.connect() as conn:
        counts: dict[str, int] = {status: n for status, n in conn.execute(
            select(outbox_t.c.status, func.count()).group_by(outbox_t.c.status))}
        oldest = conn.execute(select(func.min(outbox_t.c.created_at))
                              .where(outbox_t.c.status.in_(("pending", "dispatched")))).scalar()
    lags = timer_lags(engine, now - window)
    return {
        "outbox_pending": counts.get("pending", 0),
        "outbox_running": counts.get("dispatched", 0),
        "outbox_done": counts.get("done", 0),
        "outbox_failed": counts.get("failed", 0),
        "outbox_cancelled": counts.get("cancelled", 0),
        "outbox_oldest_waiting_s": round((now - aware(oldest)).total_seconds(), 1)
        if oldest else None,
        "timer_events_24h": len(lags),
        "timer_lag_p50_s": percentile(lags, 50),
        "timer_lag_p99_s": percentile(lags, 99),
        "timer_lag_max_s": lags[-1] if lags else None,
    }


def readiness(engine: Engine, now: datetime | None = None) -> dict[str, Any]:
    """Whether the database answers (one short read), and the outbox's lag as it stands."""
    now = now or datetime.now(UTC)
    try:
        with engine.connect() as conn:
            oldest = conn.execute(select(func.min(outbox_t.c.created_at)).where(
                outbox_t.c.status.in_(("pending", "dispatched")))).scalar()
    except SQLAlchemyError as exc:  # down, refused, locked out: say which, not the URL
        return {"database": f"error: {exc.__class__.__name__}",
                "outbox_oldest_waiting_s": None}
    return {"database": "ok", "outbox_oldest_waiting_s":
            round((now - aware(oldest)).total_seconds(), 1) if oldest else None}


def ops_figures(engine: Engine) -> dict[str, Any] | None:
    """``ops_status``, or None when the database does not answer (a scrape says so)."""
    try:
        return ops_status(engine)
    except SQLAlchemyError:
        return None
