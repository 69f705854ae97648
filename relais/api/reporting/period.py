"""The period a report covers, as the indicators answer names it: ``from`` at 00:00 UTC up
to ``to`` excluded (the day after the last one asked for)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .labels import Lang, swiss


@dataclass(frozen=True)
class Period:
    first: date  # first day covered
    last: date  # last day covered (included)
    route: str | None = None

    @classmethod
    def of(cls, indicators: dict[str, Any]) -> Period:
        start = _utc(indicators["from"])
        end = _utc(indicators["to"])
        return cls(start.date(), (end - timedelta(microseconds=1)).date(),
                   indicators.get("route"))

    def label(self, lang: Lang) -> str:
        """01.03.2026 – 31.03.2026"""
        del lang  # the same in both languages
        return f"{swiss(self.first)} – {swiss(self.last)}"

    @property
    def slug(self) -> str:
        """For file names: 2026-03-01-2026-03-31."""
        return f"{self.first.isoformat()}-{self.last.isoformat()}"


def _utc(iso: str) -> datetime:
    moment = datetime.fromisoformat(iso)
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
