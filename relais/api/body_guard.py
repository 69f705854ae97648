"""The door every request passes before the application reads a byte of its body.

- The API's caller is known first: an ``/api/`` request with a body and without a valid token
  is answered 401 without reading its body (FastAPI reads a declared body *before* the endpoint's
  dependencies, so a dependency cannot do this). The actor found is handed to ``deps.caller``.
- The body is counted as it streams in, chunked or not: ``Content-Length`` alone let a 300 MB
  chunked upload be read whole into memory.
- A NUL character, which PostgreSQL text cannot hold, is refused in the URL and in whatever
  body the application reads (raw, JSON-escaped ``\\u0000``, or form-encoded ``%00``),
  without forcing a body to be read.

A pure ASGI middleware (not ``@app.middleware("http")``, which buffers and wraps bodies): it
only wraps ``receive``, so nothing is read that the application does not ask for.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio.to_thread
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from relais.cases.domain.actors import Actor
from relais.i18n import bi

from .errors import ApiError, _answer, error, lang_of

NUL_REFUSED = "caractère NUL refusé / NUL character refused"
_NUL_MARKS = (b"\x00", b"\\u0000")
_FORM_NUL = b"%00"
_TAIL = len(b"\\u0000") - 1  # what a mark split across two chunks can leave in the first
UPLOAD_FORM_FIELDS = 64 * 1024  # an upload's title, kind, CSRF token and multipart framing


def too_large(limit: int) -> str:
    return bi("corps de requête trop grand (maximum %(kb)s Ko)",
              "request body too large (at most %(kb)s KB)", kb=limit // 1024)


class BodyRefused(HTTPException):
    """Raised from ``receive``: the application's handlers answer it like any HTTP error
    (JSON for the API, a page for a browser); FastAPI passes HTTP errors through unchanged
    while it reads a body."""


class BodyGuard:
    def __init__(self, app: ASGIApp, *, limit: int,
                 authenticate: Callable[[Request], Actor],
                 upload_limit: int = 0, is_upload: Callable[[str], bool] = lambda _: False
                 ) -> None:
        self.app, self.limit, self.authenticate = app, limit, authenticate
        # a file posted from a page (``is_upload``: its path, multipart only): up to
        # ``upload_limit`` and its form's fields, and binary (a PDF holds NUL bytes; it is
        # kept as bytes, its text fields checked by the page)
        self.upload_limit, self.is_upload = upload_limit, is_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        upload = self.upload_limit > 0 and self.is_upload(scope["path"]) and \
            request.headers.get("content-type", "").startswith("multipart/form-data")
        limit = self.upload_limit + UPLOAD_FORM_FIELDS if upload else self.limit
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            refused = await _answer(request, 413, "too_large", too_large(limit))
            await refused(scope, receive, send)
            return
        target = scope.get("raw_path", b"") + b"?" + scope.get("query_string", b"")
        if b"\x00" in target or _FORM_NUL in target:
            refused = await _answer(request, 422, "invalid_input", NUL_REFUSED)
            await refused(scope, receive, send)
            return
        if scope["path"].startswith("/api/") and _has_body(request):
            try:  # the token's look-up is a database read: off the event loop
                actor = await anyio.to_thread.run_sync(self.authenticate, request)
            except ApiError as exc:
                refused = error(exc.status, exc.code, exc.message, instance=scope["path"],
                                lang=lang_of(request), **exc.details)
                if exc.status == 401:
                    refused.headers["WWW-Authenticate"] = "Bearer"
                await refused(scope, receive, send)
                return
            scope.setdefault("state", {})["actor"] = actor
        form = request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded")
        await self._guarded(scope, _Counted(receive, limit, form, binary=upload), send)

    async def _guarded(self, scope: Scope, receive: _Counted, send: Send) -> None:
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except BodyRefused as exc:  # read outside the application's error handlers
            if started:
                raise
            answer = await _answer(Request(scope), exc.status_code, "too_large" if
                                   exc.status_code == 413 else "invalid_input", str(exc.detail))
            await answer(scope, receive, send)


def _has_body(request: Request) -> bool:
    """A request without a body needs no door: its endpoint's dependency checks the token."""
    return (request.headers.get("content-length", "0") != "0"
            or "transfer-encoding" in request.headers)


class _Counted:
    """``receive``, counting the body's bytes and looking for NUL in them as they come."""

    def __init__(self, receive: Receive, limit: int, form: bool, binary: bool = False
                 ) -> None:
        self.receive, self.limit = receive, limit
        self.marks: tuple[bytes, ...] = () if binary else (
            (*_NUL_MARKS, _FORM_NUL) if form else _NUL_MARKS)
        self.seen = 0
        self.tail = b""

    async def __call__(self) -> Message:
        message = await self.receive()
        if message["type"] != "http.request":
            return message
        chunk: bytes = message.get("body", b"")
        self.seen += len(chunk)
        if self.seen > self.limit:
            raise BodyRefused(413, too_large(self.limit))
        window = self.tail + chunk
        if self.marks and any(mark in window for mark in self.marks):
            raise BodyRefused(422, NUL_REFUSED)
        self.tail = window[-_TAIL:]
        return message
