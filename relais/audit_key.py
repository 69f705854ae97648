"""The key that signs the audit's checkpoints: never in the database it vouches for.

``RELAIS_AUDIT_KEY``, or a key made once in ``var/audit_key`` (mode 0600) by the first
checkpoint, as the pages' session key is made (``relais.keys``). Whoever can
write the database but not read this file or the environment cannot sign a checkpoint.
Several machines: set ``RELAIS_AUDIT_KEY`` alike on each, or let one take the checkpoints.
"""

from __future__ import annotations

from pathlib import Path

from .keys import made_once
from .settings import settings

FOLDER = Path("var")


def audit_key(*, make: bool) -> bytes | None:
    """The key; None when there is none and ``make`` is false (``audit verify`` makes none:
    a new key would only call every existing checkpoint forged)."""
    configured = settings().audit_key
    path = FOLDER / "audit_key"
    if not configured and not path.exists():
        if not make:
            return None
        made_once(path)
    key = configured or path.read_text("utf-8").strip()
    if len(key) < 32:
        raise ValueError(f"{'RELAIS_AUDIT_KEY' if configured else path}: clé d'audit de moins "
                         f"de 32 caractères / audit key shorter than 32 characters")
    return key.encode()
