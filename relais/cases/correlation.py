"""Which request a piece of work comes from: an id set by the API for each request, written
into the outbox rows its events queue, and set again by the worker that runs them, so that
an operator follows one person's click from the access log to the letter it sent."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_REQUEST: ContextVar[str | None] = ContextVar("relais_request_id", default=None)


def current_request() -> str | None:
    return _REQUEST.get()


@contextmanager
def request_bound(request_id: str | None) -> Iterator[None]:
    token = _REQUEST.set(request_id)
    try:
        yield
    finally:
        _REQUEST.reset(token)
