"""Notes on a case over HTTP (SQLite and PostgreSQL, as every ``services`` test): written by
an institution taking part or the coordination, in the history with their author, their
text only for readers of their category; a note decides nothing."""

from __future__ import annotations

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relais.cases.domain.errors import MissingInput
from relais.cases.domain.notes import NOTE_MAX_CHARS
from relais.cases.services import CaseServices
from relais.conventions.data_sharing import CATEGORIES
from tests.api_server import People, running
from tests.conftest import COORD, ORP, ORP_LCF, PERSON


def _open(orp: httpx.Client) -> str:
    case = orp.post("/api/cases", json={"route": "reseau-cii", "person": PERSON,
                                        "consent": {"grantor": "Jean Muster"},
                                        "fields": {"age": 40}})
    assert case.status_code == 201, case.text
    return str(case.json()["id"])


def _notes(client: httpx.Client, cid: str) -> list[tuple[str, str, str | None]]:
    history = client.get(f"/api/cases/{cid}/history").json()
    return [(h["institution"], h["note"]["category"], h["note"]["text"])
            for h in history if h["kind"] == "note_added"]


def test_a_note_is_in_the_history_its_text_only_for_readers_of_its_category(
        services: CaseServices) -> None:
    with running(services) as base:
        people = People(services, base)
        orp, oai, coord = people["ORP-NE"], people["OAI-NE"], people["CII-NE:coordinator"]
        cid = _open(orp)
        added = orp.post(f"/api/cases/{cid}/notes", json={
            "text": "  Entretien du 3 : motivé, cherche un stage.  ", "category": "situation"})
        assert added.status_code == 201, added.text
        body = added.json()
        assert body["kind"] == "note_added" and body["actor"] == "orp-ne"
        assert body["note"] == {"category": "situation",
                                "text": "Entretien du 3 : motivé, cherche un stage."}
        assert orp.post(f"/api/cases/{cid}/notes", json={
            "text": "Suivi psychiatrique annoncé", "category": "medical"}).status_code == 201
        # the author reads both
        assert _notes(orp, cid) == [
            ("ORP-NE", "situation", "Entretien du 3 : motivé, cherche un stage."),
            ("ORP-NE", "medical", "Suivi psychiatrique annoncé")]
        # an ORP of another region, a case manager not taking part: as if no case existed
        other = people["ORP-LCF"]
        assert other.get(f"/api/cases/{cid}/history").status_code == 404
        refused = other.post(f"/api/cases/{cid}/notes", json={"text": "x",
                                                             "category": "situation"})
        assert refused.status_code == 404 and refused.json()["error"] == "not_found"
        assert oai.get(f"/api/cases/{cid}/history").status_code == 404
        # once OAI takes part: the situation on the statute (LACI 85f), the medical note
        # only that it exists (sensitive: no consent covers it)
        orp.post(f"/api/cases/{cid}/events", json={"event": "transmettre"})
        assert coord.post(f"/api/cases/{cid}/events",
                          json={"event": "retenir"}).status_code == 200
        assert _notes(oai, cid) == [
            ("ORP-NE", "situation", "Entretien du 3 : motivé, cherche un stage."),
            ("ORP-NE", "medical", None)]
        # a partner and the coordination write notes too
        assert oai.post(f"/api/cases/{cid}/notes", json={
            "text": "Demande AI reçue", "category": "situation"}).status_code == 201
        assert coord.post(f"/api/cases/{cid}/notes", json={
            "text": "Point au prochain colloque", "category": "situation"}).status_code == 201
        assert [n[0] for n in _notes(orp, cid)][-2:] == ["OAI-NE", "CII-NE"]
        # each read lands on the read record, the note's answer too
        reads = orp.get(f"/api/cases/{cid}/reads").json()["items"]
        whats = [(r["institution"], r["what"]) for r in reads]
        assert ("OAI-NE", "history") in whats and ("CII-NE", "history") in whats
        people.close()


def test_a_bad_note_is_a_422_and_a_note_needs_no_if_match(services: CaseServices) -> None:
    with running(services) as base:
        people = People(services, base)
        orp = people["ORP-NE"]
        cid = _open(orp)
        before = orp.get(f"/api/cases/{cid}")
        etag = before.headers["etag"]
        for body, field in (({"text": "   ", "category": "situation"}, "text"),
                            ({"text": "x" * (NOTE_MAX_CHARS + 1), "category": "situation"},
                             "text"),
                            ({"text": "x", "category": "secret"}, "category")):
            bad = orp.post(f"/api/cases/{cid}/notes", json=body)
            assert bad.status_code == 422 and bad.json()["error"] == "invalid_input", bad.text
            assert field in bad.text
        for body in ({"text": "x"}, {"text": "x", "category": "situation", "lead": "OAI-NE"},
                     {"text": "x" * 20_001, "category": "situation"}):
            assert orp.post(f"/api/cases/{cid}/notes", json=body).status_code == 422
        assert orp.post(f"/api/cases/{cid}/notes", json={
            "text": "x" * NOTE_MAX_CHARS, "category": "situation"}).status_code == 201
        after = orp.get(f"/api/cases/{cid}").json()
        assert {k: after[k] for k in ("state", "lead", "deadline")} == {
            k: before.json()[k] for k in ("state", "lead", "deadline")}
        # a note decides nothing: the If-Match read before it still names the case
        fired = orp.post(f"/api/cases/{cid}/events", headers={"If-Match": etag},
                         json={"event": "transmettre"})
        assert fired.status_code == 200, fired.text
        people.close()


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=NOTE_MAX_CHARS + 50),
       category=st.sampled_from([*CATEGORIES, "autre"]),
       who=st.sampled_from([ORP, COORD, ORP_LCF]))
def test_a_note_changes_neither_state_lead_nor_deadline(services: CaseServices, text: str,
                                                        category: str, who: object) -> None:
    case = services.open_case(route="reseau-cii", person=PERSON, actor=ORP,
                              fields={"age": 40}).case
    try:
        out = services.add_note(case.id, text, category, actor=who)  # type: ignore[arg-type]
    except MissingInput:
        assert not text.strip() or len(text.strip()) > NOTE_MAX_CHARS \
            or category not in CATEGORIES
        return
    except Exception as exc:  # NotAllowed: an institution not taking part
        assert who is ORP_LCF and type(exc).__name__ == "NotAllowed"
        return
    assert who is not ORP_LCF
    after = out.case
    assert (after.state, after.lead, after.deadline, after.partners, after.fields) == (
        case.state, case.lead, case.deadline, case.partners, case.fields)
    assert after.version == case.version + 1
    assert services.get(case.id) == after
