"""Every request gets an id: the caller's ``X-Request-ID`` when it is a sane token (a proxy's,
say), else a new one; answered in ``X-Request-ID``, on every log line of the request, and
carried by the outbox rows it queues into the actions' log lines (``cases.correlation``)."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from relais.cases.correlation import request_bound

_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")  # nothing that could forge a log line


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _SANE.match(given) else uuid.uuid4().hex

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            await send(message)
        with request_bound(rid):
            await self.app(scope, receive, sending)
