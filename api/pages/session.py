"""The people's session: a signed cookie (Starlette's SessionMiddleware, itsdangerous) that
names the signed-in user and carries the CSRF token of their forms.

The cookie holds no secret of the user and no personal data: a name, a random CSRF token,
the language. It is HttpOnly (no script reads it) and SameSite=Lax (another site's form
cannot post with it; a link from an e-mail still opens the page signed in). The user is
looked up again on every request, so a revoked user is out at once.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

COOKIE = "relais_session"
MAX_AGE_S = 10 * 3600  # one working day: a forgotten session does not outlive the evening


def secret_key(configured: str, folder: Path) -> str:
    """The key that signs the cookies: ``RELAIS_SECRET_KEY``, or one made once and kept in
    ``folder/secret_key`` (mode 0600), so that the embedded default needs no setting and
    every process of one machine signs alike. Several machines: set ``RELAIS_SECRET_KEY``."""
    if configured:
        return configured
    path = folder / "secret_key"
    if not path.exists():
        # written whole beside it, then linked into place: processes starting together
        # (uvicorn's workers) never read a half-written key, and the first link wins
        folder.mkdir(parents=True, exist_ok=True)
        draft = folder / f".secret_key.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    key = path.read_text("utf-8").strip()
    if len(key) < 32:
        raise ValueError(f"{path}: clé de session trop courte ou vide, supprimez le fichier / "
                         f"session key too short or empty: delete the file")
    return key


def install(app: FastAPI, key: str, *, https_only: bool) -> None:
    app.add_middleware(SessionMiddleware, secret_key=key, session_cookie=COOKIE,
                       max_age=MAX_AGE_S, same_site="lax", https_only=https_only)


def csrf_token(session: dict[str, object]) -> str:
    """This session's CSRF token, made on first use (the sign-in form has one too)."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_valid(session: dict[str, object], sent: object) -> bool:
    token = session.get("csrf")
    return (isinstance(token, str) and isinstance(sent, str)
            and hmac.compare_digest(token.encode(), sent.encode()))
