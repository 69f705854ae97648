"""The headers every answer carries (OWASP ASVS 14.4): no inline script or style and nothing
from another site (CSP), no framing, no type sniffing, no referrer sent out, and nothing a
browser or a shared cache may keep but the static files: pages and API answers carry
personal data. An answer that set its own policy (the steering report, self-contained)
keeps it."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
ALWAYS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
          (b"referrer-policy", b"same-origin")]
STATIC = "/static/"
STATIC_CACHE = b"public, max-age=3600"  # the style sheet and scripts: no one's data


class SecurityHeaders:
    """Pure ASGI middleware (no response body is touched): the headers above, added at the
    start of every HTTP answer unless the answer set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cache = STATIC_CACHE if scope["path"].startswith(STATIC) else b"no-store"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in [*ALWAYS, (b"content-security-policy", CSP.encode()),
                                    (b"cache-control", cache)]:
                    if name not in present:
                        headers.append((name, value))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
