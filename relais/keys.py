"""Keys kept outside the database, made once in a file when no setting gives one: the
pages' session key and the audit's checkpoint key (``relais.audit_key``)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def made_once(path: Path) -> None:
    """A random key written whole beside ``path`` (mode 0600), then linked into place:
    processes starting together (uvicorn's workers) never read a half-written key, and the
    first link wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.parent / f".{path.name}.{os.getpid()}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secrets.token_urlsafe(48))
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()


def secret_key(configured: str, folder: Path) -> str:
    """The key that signs the cookies: ``RELAIS_SECRET_KEY``, or one made once and kept in
    ``folder/secret_key`` (mode 0600), so that the embedded default needs no setting and
    every process of one machine signs alike. Several machines: set ``RELAIS_SECRET_KEY``."""
    if configured:
        return configured
    path = folder / "secret_key"
    if not path.exists():
        made_once(path)
    key = path.read_text("utf-8").strip()
    if len(key) < 32:
        raise ValueError(f"{path}: clé de session trop courte ou vide, supprimez le fichier / "
                         f"session key too short or empty: delete the file")
    return key
