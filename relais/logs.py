"""How Relais's processes write their log: one line per record on stderr, plain text for a
person at a terminal or JSON for a log collector (``RELAIS_LOG_FORMAT=json``), each line
with the id of the request it comes from (``cases.correlation``: the API's requests, and
the actions they queued)."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from relais.cases.correlation import current_request

TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request() or "-"
        record.__dict__.pop("color_message", None)  # uvicorn's, with terminal escapes
        return True


def configure(fmt: str) -> None:
    """Replace the root logger's handlers with one in ``fmt`` (``text`` or ``json``); the
    uvicorn and Prefect loggers that propagate write through it too."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False))
    else:
        handler.setFormatter(logging.Formatter(TEXT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # each call to Prefect's API, else
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
