"""The people's session cookie: signed (Starlette's SessionMiddleware, itsdangerous), it
holds the id of a session kept on the server (``cases/store/sessions.py``), the CSRF token
of the person's forms and their language; before sign-in, only the last two.

The cookie holds nothing about the person or their cases. It is HttpOnly (no script reads
it) and SameSite=Lax (another site's form cannot post with it; a link from an e-mail still
opens the page signed in). What it opens is decided on the server at every request: a
session signed out, idle for half an hour, older than ten hours, or of a user whose password
changed, opens nothing, whatever copy of the cookie is shown.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from relais.cases.store.sessions import LIFETIME

COOKIE = "relais_session"
SID = "sid"  # the key of the server's session in the cookie


def install(app: FastAPI, key: str, *, https_only: bool) -> None:
    app.add_middleware(SessionMiddleware, secret_key=key, session_cookie=COOKIE,
                       max_age=int(LIFETIME.total_seconds()), same_site="lax",
                       https_only=https_only)


def begin(session: dict[str, object], session_id: str) -> None:
    """A signed-in cookie: nothing the browser brought carries over but the language, so a
    cookie planted before sign-in is never the one after (no session fixation)."""
    lang = session.get("lang")
    session.clear()
    session.update({SID: session_id, **({"lang": lang} if lang else {})})
    csrf_token(session)


def end(session: dict[str, object]) -> object:
    """Back to an anonymous cookie (the language kept); the server's session id it held."""
    lang, session_id = session.get("lang"), session.get(SID)
    session.clear()
    if lang:
        session["lang"] = lang
    return session_id


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
