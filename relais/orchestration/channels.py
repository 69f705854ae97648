"""How messages leave Relais: e-mail over SMTP, SMS through a gateway.

Each message carries the idempotency key of the effect it is: the e-mail's Message-ID is
derived from it (a retried send is recognisable as the same message), and the folder SMS
gateway writes one file per key, exclusively, so that a retry cannot send twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol


def message_id(key: str, domain: str = "relais.invalid") -> str:
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


@dataclass(frozen=True)
class Attachment:
    filename: str
    media_type: str  # "application/pdf"
    content: bytes


@dataclass(frozen=True)
class Mail:
    key: str
    to: str
    subject: str
    body: str
    attachments: tuple[Attachment, ...] = field(default=())


class Mailer(Protocol):
    def send(self, mail: Mail) -> str: ...


def _write_once(target: Path, body: bytes) -> None:
    """Write ``target`` whole or not at all, and never twice: the first writer wins."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.part")
    partial.write_bytes(body)
    try:
        os.link(partial, target)
    except FileExistsError:
        pass
    finally:
        partial.unlink(missing_ok=True)


def _email(mail: Mail, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, mail.to, mail.subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = message_id(mail.key) if mail.key else make_msgid()
    msg["X-Relais-Key"] = mail.key
    msg.set_content(mail.body)
    for a in mail.attachments:
        main, sub = a.media_type.split("/", 1)
        msg.add_attachment(a.content, maintype=main, subtype=sub, filename=a.filename)
    return msg


class FolderMailer:
    """Without an SMTP relay (the embedded default): one ``.eml`` file per message, ready
    for any mail client or relay to send."""

    def __init__(self, folder: Path, sender: str) -> None:
        self.folder, self.sender = folder, sender

    def send(self, mail: Mail) -> str:
        msg = _email(mail, self.sender)
        _write_once(self.folder / f"{hashlib.sha256(mail.key.encode()).hexdigest()[:32]}.eml",
                    bytes(msg))
        return str(msg["Message-ID"])


class SmtpMailer:
    """Plain SMTP to the administration's relay (STARTTLS and login when configured)."""

    def __init__(self, host: str, port: int, sender: str, *, starttls: bool = False,
                 user: str | None = None, password: str | None = None,
                 timeout: float = 20.0) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.starttls, self.user, self.password, self.timeout = starttls, user, password, timeout

    def send(self, mail: Mail) -> str:
        msg = _email(mail, self.sender)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(msg)
        return str(msg["Message-ID"])


@dataclass(frozen=True)
class Sms:
    key: str
    to: str  # E.164
    text: str


class SmsGateway(Protocol):
    def send(self, sms: Sms) -> str: ...


class FolderSms:
    """The default gateway: one JSON file per message in a folder, where an operator's real
    gateway (or a person at a phone) picks them up. A key already written is not rewritten."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, key: str) -> Path:
        return self.folder / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"

    def send(self, sms: Sms) -> str:
        target = self.path(sms.key)
        _write_once(target, json.dumps({"key": sms.key, "to": sms.to, "text": sms.text},
                                       ensure_ascii=False).encode())
        return target.name
