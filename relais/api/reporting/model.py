"""A steering table as every format draws it: a key, a title, typed columns, rows of cells.

A cell is text, a published count (an ``int``, or the text ``"<5"``), a number of days
(a ``float``) or an amount in francs. Counts are never recomputed here: they are the ones
the figures published.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from relais.cases.steering import SMALL

Cell = str | int | float
ColumnKind = Literal["text", "count", "days", "chf"]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: ColumnKind = "text"


@dataclass(frozen=True)
class Row:
    cells: tuple[Cell, ...]
    level: int = 0  # 1: a part of the row above it ("of which"), drawn indented


@dataclass(frozen=True)
class Table:
    key: str  # stable: file names and URLs use it
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    lang: str = "fr"
    note: str = ""  # what the reader must know to read the table right
    empty: str = field(default="")  # shown when there are no rows

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "lang": self.lang, "title": self.title, "note": self.note,
                "columns": [{"key": c.key, "label": c.label, "kind": c.kind}
                            for c in self.columns],
                "rows": [{"cells": list(r.cells), "level": r.level} for r in self.rows]}


def published_sum(values: Iterable[Cell]) -> Cell:
    """The sum of published counts, without pretending to know what "<5" hides: the numbers
    are added, each "<5" is written after them ("160 + <5", "2 × <5")."""
    total, small = 0, 0
    for v in values:
        if v == SMALL:
            small += 1
        elif isinstance(v, int):
            total += v
    if small == 0:
        return total
    smalls = SMALL if small == 1 else f"{small} × {SMALL}"
    return smalls if total == 0 else f"{total} + {smalls}"


def weight(value: Cell) -> int:
    """How much a published count weighs when things must be ordered: "<5" below 5."""
    return value if isinstance(value, int) else 0
