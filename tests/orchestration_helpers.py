"""Real peers for the orchestration tests: an SMTP server (aiosmtpd), an institution's
HTTP file service, and a runtime wired to them."""

from __future__ import annotations

import base64
import email
import email.policy
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from cases.services import CaseServices
from tests.api_server import free_port
from workflows.flows.channels import FolderSms, SmtpMailer
from workflows.flows.runtime import Runtime
from workflows.flows.sources import Sources


class MailInbox:
    """What the SMTP server received, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(msg)  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def keys(self) -> list[str]:
        return [str(m["X-Relais-Key"]) for m in self.messages]


@contextmanager
def smtp_server() -> Iterator[tuple[MailInbox, int]]:
    inbox, port = MailInbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


class FileService:
    """An institution's own system answering ``GET /persons/{avs}/files``. It can fail the
    first requests (``fail_first``) or hold every request until released (``hold``)."""

    def __init__(self) -> None:
        self.files: dict[str, list[dict[str, str]]] = {}
        self.fail_first = 0
        self.requests = 0
        self.hold = threading.Event()
        self.hold.set()
        self.arrived = threading.Event()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                service.requests += 1
                service.arrived.set()
                service.hold.wait(60)
                parts = self.path.strip("/").split("/")
                if service.requests <= service.fail_first:
                    self._answer(503, {"error": "busy"})
                elif len(parts) == 3 and parts[0] == "persons" and parts[1] in service.files:
                    self._answer(200, {"files": service.files[parts[1]]})
                else:
                    self._answer(404, {"error": "unknown person"})

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def add(self, avs: str, title: str, content: bytes, category: str = "medical") -> None:
        self.files.setdefault(avs, []).append({
            "title": title, "category": category, "media_type": "application/pdf",
            "content_base64": base64.b64encode(content).decode()})

    @contextmanager
    def running(self) -> Iterator[FileService]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.hold.set()
            self.server.shutdown()
            self.server.server_close()


def runtime(services: CaseServices, smtp_port: int, folder: Path,
            sources: dict[str, str] | None = None) -> Runtime:
    return Runtime(services, SmtpMailer("127.0.0.1", smtp_port, "relais@cii.ne.example",
                                        timeout=5),
                   FolderSms(folder / "sms"), Sources(sources or {"*": "demo"}))
