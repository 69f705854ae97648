"""What a file uploaded from the case page may be: a media type of the downloads' list
(``downloads.ALLOWED``) whose first bytes say it is one, and no larger than the limit.

The browser's declared type is only a hint: a file is taken for what its first bytes
(magic numbers) show. A PDF renamed ``.png`` is a PDF; an HTML page renamed ``.pdf`` is
refused. Plain text and CSV, which have no magic number, must decode as UTF-8 and hold no
control characters; the office formats (ODF, OOXML) are ZIP archives told apart by what
they hold at their start (ODF's ``mimetype`` entry) or by their declared type.
"""

from __future__ import annotations

from dataclasses import dataclass

from relais.i18n import Said, bi

from .downloads import ALLOWED, base_type

DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024  # RELAIS_UPLOAD_MAX_MB
_ZIP = b"PK\x03\x04"
_ODF = {b"application/vnd.oasis.opendocument.text": "application/vnd.oasis.opendocument.text",
        b"application/vnd.oasis.opendocument.spreadsheet":
        "application/vnd.oasis.opendocument.spreadsheet"}
_OOXML = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
_TEXT = ("text/plain", "text/csv", "application/json")


@dataclass(frozen=True)
class Refused(Exception):
    """Why a file is not taken (``relais.i18n.localize`` says it in the page's language)."""

    said: Said


def sniffed(content: bytes, declared: str) -> str | None:
    """The media type ``content`` is, by its first bytes; None when it is none of the list."""
    head = content[:512]
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(_ZIP):
        # ODF: a first entry named "mimetype" holding the type, stored uncompressed
        for marker, media in _ODF.items():
            if head[30:38] == b"mimetype" and marker in head[38:120]:
                return media
        return declared if declared in _OOXML else None
    if declared in _TEXT and _plain_text(content):
        return declared
    return None


def _plain_text(content: bytes) -> bool:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any(ord(c) < 32 and c not in "\t\n\r" for c in text)


def checked_upload(content: bytes, declared: str, limit: int) -> str:
    """The media type to keep ``content`` as; Refused with the reason otherwise."""
    if not content:
        raise Refused(bi("Le fichier est vide.", "The file is empty."))
    if len(content) > limit:
        mb = limit // (1024 * 1024)
        raise Refused(bi("Le fichier dépasse %(mb)s Mo.", "The file is larger than %(mb)s MB.",
                         mb=mb))
    found = sniffed(content, base_type(declared))
    if found is None or found not in ALLOWED:
        raise Refused(bi("Ce type de fichier n'est pas accepté : PDF, PNG, JPEG, texte, CSV, "
                         "JSON, OpenDocument ou Word/Excel (docx, xlsx).",
                         "This file type is not accepted: PDF, PNG, JPEG, text, CSV, JSON, "
                         "OpenDocument or Word/Excel (docx, xlsx)."))
    return found
