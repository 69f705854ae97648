"""Case documents as downloads: a media type from a short list, always an attachment.

A document is never shown by the browser inside Relais: a file uploaded as ``text/html`` (or
SVG, or anything a browser runs) would otherwise run as a page of this site, with the
reader's session. Uploads of another type are refused (415); a file of another type already
kept (gathered from an institution, or uploaded before the list) is served as
``application/octet-stream``. The file name is given as RFC 6266 asks: an ASCII fallback
and the UTF-8 name, neither able to break out of the header.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi import Response

from relais.cases.store.documents import DocumentInfo
from relais.i18n import bi

OPAQUE = "application/octet-stream"
# what a case file may be, and the extension its download gets
ALLOWED = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "text/plain": ".txt",
    "text/csv": ".csv",
    "application/json": ".json",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
}
_CHARSET = re.compile(r";\s*charset=([A-Za-z0-9_-]{1,40})\s*$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def base_type(media_type: str) -> str:
    return media_type.split(";", 1)[0].strip().lower()


def accepted(media_type: str) -> bool:
    return base_type(media_type) in ALLOWED


def refusal() -> str:
    """The sentence of a 415: what may be uploaded instead."""
    listed = ", ".join(ALLOWED)
    return bi("type de fichier refusé ; acceptés : %(listed)s",
              "file type refused; accepted: %(listed)s", listed=listed)


def served_type(media_type: str) -> str:
    """The type a kept document is served as: its own when listed (with a plain charset),
    else opaque bytes."""
    base = base_type(media_type)
    if base not in ALLOWED:
        return OPAQUE
    charset = _CHARSET.search(media_type)
    return f"{base}; charset={charset.group(1)}" if charset and base.startswith("text/") else base


def disposition(name: str, media_type: str) -> str:
    """``attachment`` with the document's name and the extension of its served type."""
    extension = ALLOWED.get(base_type(served_type(media_type)), "")
    full = name + extension if not name.lower().endswith(extension) else name
    fallback = _UNSAFE.sub("_", full).strip("._") or "document"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(full, safe='')}"


def document_answer(info: DocumentInfo, body: bytes) -> Response:
    media_type = served_type(info.media_type)
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": disposition(info.name, info.media_type)})
