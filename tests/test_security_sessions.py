"""Sessions as OWASP ASVS level 2 asks (issue 11, finding 10), as attacks over a real server.

The cookie holds a random session id whose hash names a row on the server: signing out
deletes the row, so a copied cookie opens nothing afterwards; a password change or a revoked
user ends every session of theirs; a session idle for 30 minutes, or 10 hours old, is over;
and signing in always starts a new session, whatever cookie the browser brought.
"""

from __future__ import annotations

import base64
import hashlib
import json
from contextlib import closing
from datetime import UTC, datetime

import httpx
from sqlalchemy import select

from relais.cases.services import CaseServices
from relais.cases.store.sessions import IDLE, LIFETIME
from relais.cases.store.tables import session_t
from relais.cases.store.users import add_user, revoke_user, set_password
from relais.demo import Clock
from tests.api_server import running
from tests.browser import PASSWORD, csrf_of, signed_in_client

COOKIE = "relais_session"


def _person(s: CaseServices, name: str, institution: str = "ORP-NE",
            role: str = "case_manager") -> str:
    add_user(s.engine, s.registry, name=name, institution=institution, role=role,
             now=datetime.now(UTC))
    set_password(s.engine, name, PASSWORD)
    return name


def _replay(base: str, cookie: str, path: str = "/dossiers") -> httpx.Response:
    """A page asked for with a copied cookie, from another browser."""
    with httpx.Client(base_url=base, timeout=30, headers={"accept": "text/html"},
                      cookies={COOKIE: cookie}) as thief:
        return thief.get(path)


def _signed_out(answer: httpx.Response) -> bool:
    return (answer.status_code == 303
            and answer.headers["location"].startswith("/connexion?suite="))


def _sid(cookie: str) -> str:
    """The session id inside Starlette's signed cookie (base64 JSON, then the signature)."""
    data = cookie.split(".")[0]
    return str(json.loads(base64.b64decode(data + "=" * (-len(data) % 4)))["sid"])


def test_a_cookie_copied_before_sign_out_opens_nothing_afterwards(
        services: CaseServices) -> None:
    _person(services, "m.robert")
    with running(services) as base, closing(signed_in_client(base, "m.robert")) as browser:
        copied = browser.cookies[COOKIE]
        assert _replay(base, copied).status_code == 200  # the copy works while signed in
        inbox = browser.get("/dossiers").text
        assert browser.post("/deconnexion", data={"csrf": csrf_of(inbox)}).status_code == 303
        assert _signed_out(_replay(base, copied))
        assert _signed_out(browser.get("/dossiers"))
    with services.engine.connect() as conn:
        assert conn.execute(select(session_t)).first() is None


def test_a_password_change_ends_every_session_of_the_user(services: CaseServices) -> None:
    _person(services, "m.robert")
    _person(services, "p.girard", "OAI-NE")
    with running(services) as base, closing(signed_in_client(base, "m.robert")) as office, \
            closing(signed_in_client(base, "m.robert")) as home, \
            closing(signed_in_client(base, "p.girard")) as colleague:
        copied = office.cookies[COOKIE]
        # what `relais users password` does
        set_password(services.engine, "m.robert", "un-nouveau-mot-de-passe")
        assert _signed_out(_replay(base, copied))
        assert _signed_out(office.get("/dossiers")) and _signed_out(home.get("/dossiers"))
        assert colleague.get("/dossiers").status_code == 200  # nobody else's
        revoke_user(services.engine, "p.girard", datetime.now(UTC))
        assert _signed_out(colleague.get("/dossiers"))
        with closing(signed_in_client(base, "m.robert", "un-nouveau-mot-de-passe")) as again:
            assert again.get("/dossiers").status_code == 200


def test_the_password_command_ends_the_sessions(services: CaseServices) -> None:
    """``relais users password`` calls what the test above calls; here as the command runs,
    on a SQLite file shared with the server."""
    import os
    import subprocess
    import sys
    if services.engine.dialect.name != "sqlite":
        url = services.engine.url.render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{services.engine.url.database}"
    _person(services, "m.robert")
    with running(services) as base, closing(signed_in_client(base, "m.robert")) as browser:
        changed = subprocess.run(
            [sys.executable, "-m", "relais.cli", "users", "password", "m.robert"],
            input="encore-un-autre-mot\nencore-un-autre-mot\n", text=True, capture_output=True,
            env={**os.environ, "RELAIS_DATABASE_URL": url}, timeout=120, check=False)
        assert changed.returncode == 0, changed.stderr
        assert _signed_out(browser.get("/dossiers"))


def test_an_idle_session_ends_after_thirty_minutes_and_any_after_ten_hours(
        services: CaseServices, clock: Clock) -> None:
    _person(services, "m.robert")
    step = IDLE.total_seconds() - 60
    with running(services) as base, closing(signed_in_client(base, "m.robert")) as browser:
        # used every 29 minutes, the session slides on ...
        for _ in range(3):
            clock.advance(seconds=step)
            assert browser.get("/dossiers").status_code == 200
        # ... left 31 minutes, it is over
        clock.advance(seconds=IDLE.total_seconds() + 60)
        assert _signed_out(browser.get("/dossiers"))
    with running(services) as base, closing(signed_in_client(base, "m.robert")) as browser:
        used = 0.0
        while used + step < LIFETIME.total_seconds():
            clock.advance(seconds=step)
            used += step
            assert browser.get("/dossiers").status_code == 200
        clock.advance(seconds=LIFETIME.total_seconds() - used)
        assert _signed_out(browser.get("/dossiers"))  # ten hours, however busy


def test_signing_in_never_keeps_the_cookie_the_browser_brought(services: CaseServices) -> None:
    _person(services, "m.robert")
    _person(services, "x.intrus", "CII-NE", "steering")  # at home on /pilotage
    with running(services) as base:
        # the attacker's own session, and an anonymous one, planted in the victim's browser
        with closing(signed_in_client(base, "x.intrus")) as attacker:
            planted = attacker.cookies[COOKIE]
        with httpx.Client(base_url=base, timeout=30, headers={"accept": "text/html"}) as anon:
            anon.get("/connexion")
            blank = anon.cookies[COOKIE]
        for brought in (planted, blank):
            with httpx.Client(base_url=base, timeout=30, headers={"accept": "text/html"},
                              cookies={COOKIE: brought}) as victim:
                token = csrf_of(victim.get("/connexion").text)
                signed = victim.post("/connexion", data={"name": "m.robert",
                                                          "password": PASSWORD, "csrf": token})
                assert signed.status_code == 303
                after = signed.cookies[COOKIE]
                assert after != brought
                if brought is planted:
                    assert _sid(after) != _sid(planted)
                # what the attacker kept does not open the victim's inbox
                kept = _replay(base, brought, "/")
                assert kept.headers["location"] != "/dossiers"


def test_the_session_id_is_kept_hashed_and_forms_still_need_their_token(
        services: CaseServices) -> None:
    _person(services, "m.robert")
    with running(services) as base, closing(signed_in_client(base, "m.robert")) as browser:
        sid = _sid(browser.cookies[COOKIE])
        with services.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(select(session_t))]
        assert len(rows) == 1 and sid not in json.dumps(rows, default=str)
        assert rows[0]["id_hash"] == hashlib.sha256(sid.encode()).hexdigest()
        # sign-out without the form's token is refused, and the session stays
        assert browser.post("/deconnexion", data={"csrf": "x"}).status_code == 403
        assert browser.get("/dossiers").status_code == 200
