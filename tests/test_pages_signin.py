"""Signing in to the pages: passwords, the session cookie, CSRF, the language switch, and
errors shown as pages to people while programs keep their JSON."""

from __future__ import annotations

import httpx

from tests.browser import PASSWORD, Site, csrf_of, shoot


def test_a_page_asked_for_without_a_session_leads_to_sign_in_and_back(site: Site) -> None:
    site.person("m.robert", "ORP-NE")
    context = site.browser.new_context(  # type: ignore[attr-defined]
        base_url=site.base, locale="fr-CH")  # a browser in Neuchâtel: French pages
    page = context.new_page()
    page.goto("/?vue=semaine")
    assert page.url.endswith("/connexion?suite=/%3Fvue%3Dsemaine")
    shoot(page, "signin")
    page.get_by_label("Nom d'utilisateur").fill("m.robert")
    page.get_by_label("Mot de passe").fill("pas le bon mot de passe")
    page.get_by_role("button", name="Se connecter").click()
    assert page.get_by_role("alert").inner_text().startswith(
        "Nom d'utilisateur ou mot de passe incorrect.")
    assert page.get_by_label("Mot de passe").get_attribute("aria-invalid") == "true"
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()
    # where they were going: home, which sends a case manager to the inbox
    assert page.url == f"{site.base}/dossiers"
    cookie = next(c for c in context.cookies() if c["name"] == "relais_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    context.close()


def test_signing_out_ends_the_session(site: Site) -> None:
    site.person("c.perrin", "CII-NE", "coordinator")
    page = site.signed_in("c.perrin")
    assert page.url.endswith("/coordination")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Se déconnecter").click()  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    assert page.url.endswith("/connexion")  # type: ignore[attr-defined]
    page.goto("/")  # type: ignore[attr-defined]
    assert page.url.endswith("/connexion?suite=/")  # type: ignore[attr-defined]


def test_the_language_switch_keeps_the_page_and_the_choice(site: Site) -> None:
    context = site.browser.new_context(  # type: ignore[attr-defined]
        base_url=site.base, locale="fr-CH")  # a browser in Neuchâtel: French pages
    page = context.new_page()
    page.goto("/connexion")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.url.endswith("/connexion")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in"
    page.goto("/connexion")
    assert page.get_by_label("User name").is_visible()
    context.close()


def test_a_form_without_the_session_token_is_refused(site: Site) -> None:
    site.person("m.robert", "ORP-NE")
    with httpx.Client(base_url=site.base) as client:
        no_token = client.post("/connexion", data={"name": "m.robert", "password": PASSWORD})
        assert no_token.status_code == 403
        form = client.get("/connexion").text
        other = client.post("/connexion", data={"name": "m.robert", "password": PASSWORD,
                                                "csrf": "x" + csrf_of(form)})
        assert other.status_code == 403 and "relais_session" not in str(other.headers)
        assert client.get("/").status_code == 303  # still not signed in
        signed = client.post("/connexion", data={"name": "m.robert", "password": PASSWORD,
                                                 "csrf": csrf_of(form)})
        assert signed.status_code == 303 and signed.headers["location"] == "/dossiers"


def test_sign_in_never_sends_a_person_to_another_site(site: Site) -> None:
    site.person("m.robert", "ORP-NE")
    with httpx.Client(base_url=site.base) as client:
        token = csrf_of(client.get("/connexion").text)
        for elsewhere in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
            answer = client.post("/connexion", data={"name": "m.robert", "password": PASSWORD,
                                                     "csrf": token, "suite": elsewhere})
            assert answer.headers["location"] == "/dossiers"
            token = csrf_of(client.get("/connexion").text)  # a new session after sign-in


def test_a_revoked_user_is_signed_out_at_their_next_page(site: Site) -> None:
    from datetime import UTC, datetime

    from relais.cases.store.users import revoke_user
    site.person("p.girard", "OAI-NE")
    with httpx.Client(base_url=site.base) as client:
        token = csrf_of(client.get("/connexion").text)
        client.post("/connexion", data={"name": "p.girard", "password": PASSWORD,
                                        "csrf": token})
        revoke_user(site.services.engine, "p.girard", datetime.now(UTC))
        assert client.get("/").headers["location"].startswith("/connexion")


def test_people_get_errors_as_pages_and_programs_as_json(site: Site) -> None:
    page = httpx.get(f"{site.base}/nulle-part", headers={"accept": "text/html"})
    assert page.status_code == 404 and "<h1>Introuvable</h1>" in page.text
    api = httpx.get(f"{site.base}/api/nulle-part", headers={"accept": "text/html"})
    assert api.status_code == 404 and api.json()["error"] == "not_found"


def test_wrong_passwords_slow_down_the_browser_that_types_them(site: Site) -> None:
    """No lock-out of the person (tests/test_security_signin.py): the sixth wrong password
    in a row from one browser's address has to wait, and the page says for how long."""
    from relais.cases.domain.throttle import PAIR
    site.person("l.favre", "SSR-LCF")
    context = site.browser.new_context(  # type: ignore[attr-defined]
        base_url=site.base, locale="fr-CH")  # a browser in Neuchâtel: French pages
    page = context.new_page()
    page.goto("/connexion")
    for _ in range(PAIR.free + 1):
        page.get_by_label("Nom d'utilisateur").fill("l.favre")
        page.get_by_label("Mot de passe").fill("devine")
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_load_state()
    assert page.get_by_role("alert").inner_text().startswith(
        "Trop d'essais manqués depuis cet appareil : réessayez dans ")
    shoot(page, "signin-wait")
    context.close()
