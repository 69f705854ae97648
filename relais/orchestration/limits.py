"""How many task runs may reach each external system at once, across every worker:
Prefect's tag concurrency limits (a global concurrency limit named ``tag:<tag>``, held by
each task run that carries the tag while it runs; ephemeral mode included, its server is a
real one). ``fetch_file`` task runs carry ``source:<institution>``; a mail or an SMS, sent
inside its action's task run, holds a slot of ``smtp`` or ``sms`` while it is sent
(``slot``: Prefect's ``concurrency`` context manager on the same limit). The action's own
task carries no tag, or it would hold the slot its fetches wait for.

Set with ``RELAIS_CONCURRENCY_LIMITS`` (JSON, tag to slots), e.g. ``{"smtp": 4,
"source:OAI-NE": 2}``. A task carries its tag only where a limit is set: Prefect asks its
API for slots for every tagged task run, limit or not, and on the embedded (SQLite) server
that call made 40 actions take 21.7 s instead of 4.2 s (bench/throughput.py, docs/
benchmarks.md)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from prefect.client.orchestration import get_client
from prefect.concurrency.sync import concurrency

log = logging.getLogger("relais.orchestrator")


def parse(text: str | None) -> dict[str, int]:
    """``RELAIS_CONCURRENCY_LIMITS``'s value; a wrong one is refused, not ignored."""
    if not text:
        return {}
    value = json.loads(text)
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and k and isinstance(n, int) and n >= 1
            for k, n in value.items()):
        raise ValueError("RELAIS_CONCURRENCY_LIMITS : un objet JSON {tag: entier >= 1} / "
                         f"a JSON object of tag to slots (>= 1), not {text!r}")
    return value


_LIMITED: set[str] = set()  # the tags with a limit, as this process set them
_TAGGED: dict[tuple[int, str], Any] = {}


def tagged(task: Any, tag: str) -> Any:
    """``task`` carrying ``tag`` when a limit is set for it, else ``task`` as it is."""
    if tag not in _LIMITED:
        return task
    key = (id(task), tag)
    if key not in _TAGGED:
        _TAGGED[key] = task.with_options(tags=[tag])
    return _TAGGED[key]


@contextmanager
def slot(tag: str) -> Iterator[None]:
    """Hold a slot of ``tag``'s limit around a call to its system, where a limit is set
    (the same global concurrency limit as the tagged task runs': ``tag:<tag>``)."""
    if tag not in _LIMITED:
        yield
        return
    with concurrency(f"tag:{tag}", occupy=1, strict=False):
        yield


def apply(limits: Mapping[str, int]) -> None:
    """Create or update each limit in Prefect (idempotent: every worker does it at start),
    and tag the tasks that reach its system from now on."""
    _LIMITED.clear()
    _LIMITED.update(limits)
    if not limits:
        return
    with get_client(sync_client=True) as client:
        for tag, slots in limits.items():
            client.upsert_global_concurrency_limit_by_name(f"tag:{tag}", slots)
    log.info("limites de concurrence / concurrency limits: %s", dict(limits))
