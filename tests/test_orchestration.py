"""The orchestration with real peers: Prefect runs every action (ephemeral server), files
come from a folder, an HTTP service and the demo source, mail goes to a real SMTP server,
SMS to the folder gateway. Results come back as events; nothing is done twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.sorting import TaskRunSort
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
    temporary_settings,
)
from sqlalchemy import Engine, select

from relais.cases.domain.results import Document
from relais.cases.services import CaseServices
from relais.cases.sharing import Sharing
from relais.cases.store.audit import verify
from relais.cases.store.documents import Documents
from relais.cases.store.tables import outbox_t
from relais.institutions.calendar import calendar
from relais.institutions.dates import local_day
from relais.orchestration.orchestrator import Orchestrator
from tests.conftest import COORD, OAI, ORP, PERSON, SSR, Clock, refer
from tests.orchestration_helpers import FileService, MailInbox, runtime, smtp_server
from tests.pdf_text import pdf_lines, pdf_text

CONTACT = {"email": "jean.muster@example.org",
           "address": {"street": "Rue des Parcs 12", "postcode": "2000", "town": "Neuchâtel"}}


@pytest.fixture
def mail() -> Iterator[tuple[MailInbox, int]]:
    with smtp_server() as peer:
        yield peer


@pytest.fixture
def oai_service() -> Iterator[FileService]:
    with FileService().running() as service:
        yield service


@pytest.fixture
def shared_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "partage" / "SSR-NE" / "7561234567897"
    folder.mkdir(parents=True)
    (folder / "Budget_aide_sociale.txt").write_text("Forfait d'entretien : 1031 CHF\n")
    return tmp_path / "partage"


@pytest.fixture
def orchestra(services: CaseServices, mail: tuple[MailInbox, int], tmp_path: Path,
              oai_service: FileService, shared_folder: Path) -> Iterator[Orchestrator]:
    sources = {"*": "demo", "OAI-NE": oai_service.url, "SSR-NE": f"folder:{shared_folder}"}
    rt = runtime(services, mail[1], tmp_path, sources)
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield Orchestrator(rt, worker="test-worker", sweep_every_s=None, batch=10)


def outbox(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [(r.action, r.status) for r in conn.execute(
            select(outbox_t.c.action, outbox_t.c.status).order_by(outbox_t.c.id))]


def to_assessment(services: CaseServices, person: dict[str, Any] | None = None) -> str:
    case = refer(services, route="reseau-cii", person={**PERSON, **(person or CONTACT)},
                              actor=ORP, fields={"age": 48}).case
    services.fire(case.id, "transmettre", actor=ORP)
    services.fire(case.id, "retenir", actor=COORD)
    return case.id


def documents(services: CaseServices, case_id: str) -> dict[str, Any]:
    with services.engine.connect() as conn:
        store = Documents(conn)
        return {d.name: (d, store.content(case_id, d.id)[1])  # type: ignore[index]
                for d in store.of_case(case_id)}


def test_an_assessment_gathers_every_file_and_convenes_the_round_table(
        services: CaseServices, orchestra: Orchestrator, mail: tuple[MailInbox, int],
        oai_service: FileService) -> None:
    oai_service.add("7561234567897", "Rapport médical", b"%PDF-1.4 rapport")
    case_id = to_assessment(services)
    orchestra.tick()

    assert outbox(services.engine) == [("notify_institutions", "done"),
                                       ("gather_files", "done"),
                                       ("convene_assessment", "done")]
    docs = documents(services, case_id)
    # one file from each kind of source, with its data category
    ai_file, ai_body = docs["dossier-OAI-NE-1"]
    assert (ai_file.category, ai_body) == ("medical", b"%PDF-1.4 rapport")
    assert docs["dossier-SSR-NE-1"][1] == b"Forfait d'entretien : 1031 CHF\n"
    assert docs["dossier-ORP-NE-1"][0].category == "situation"  # the demonstration source
    assert b'"indemnites_restantes"' in docs["dossier-ORP-NE-1"][1]
    # the convocation, to the person and each partner, printed
    for name in ("convocation-personne", "convocation-ORP-NE", "convocation-OAI-NE",
                 "convocation-SSR-NE"):
        assert docs[name][1].startswith(b"%PDF"), name
    # the results came back as events, through the services
    done = [e for e in services.history(case_id) if e.kind == "action_done"]
    assert [e.data["action"] for e in done] == ["notify_institutions", "gather_files",
                                                "convene_assessment"]
    meeting = done[-1].data["summary"]["meeting"]
    decided = local_day(services.history(case_id)[2].at)
    day = calendar("CH-NE").add_working_days(decided, 10)
    assert meeting["day"] == day.isoformat() and calendar("CH-NE").is_working_day(day)
    # mail: the person gets the convocation with its PDF; each partner two messages
    inbox = mail[0]
    person_mail = inbox.to("jean.muster@example.org")
    assert len(person_mail) == 1 and "Convocation" in str(person_mail[0]["Subject"])
    attachment = next(person_mail[0].iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    for address in ("orp-littoral@cii.ne.example", "oai@cii.ne.example",
                    "ssr-neuchatel@cii.ne.example"):
        assert len(inbox.to(address)) == 2, address
    assert verify(services.engine).ok


def test_a_file_nobody_could_fetch_becomes_a_task_that_the_institution_closes(
        services: CaseServices, orchestra: Orchestrator, oai_service: FileService,
        clock: Clock) -> None:
    oai_service.fail_first = 100  # OAI's system is down through every retry
    case_id = to_assessment(services)
    orchestra.tick()
    with services.engine.connect() as conn:
        tasks = Documents(conn).tasks(case_id=case_id)
    assert [(t.institution, t.kind) for t in tasks] == [("OAI-NE", "provide_file")]
    assert "indisponible" in tasks[0].title
    assert oai_service.requests == 3  # the task's own retries, then a task, not a failure
    summary = next(e for e in services.history(case_id)
               if e.kind == "action_done" and e.data["action"] == "gather_files")
    assert summary.data["summary"]["missing"]["OAI-NE"].startswith("indisponible")
    # OAI adds its file by hand: the task is done
    services.add_document(case_id, Document("rapport", "file", "OAI-NE", "medical",
                                            "Rapport médical", "application/pdf", b"%PDF-1.4"),
                          actor=OAI)
    with services.engine.connect() as conn:
        assert Documents(conn).tasks(case_id=case_id) == []
        assert [t.status for t in Documents(conn).tasks(case_id=case_id, status=None)] == \
            ["done"]


def test_a_retried_action_sends_nothing_twice_and_records_once(
        services: CaseServices, orchestra: Orchestrator, mail: tuple[MailInbox, int],
        monkeypatch: pytest.MonkeyPatch, clock: Clock) -> None:
    """Prefect retries the action's task (twice), then the outbox retries the row: what was
    sent before each failure is on the effects ledger and is not sent again."""
    case = refer(services, route="reseau-cii", person={**PERSON, **CONTACT}, actor=ORP,
                              fields={}).case
    real = services.record_action
    calls = []

    def crash_thrice(*args: Any, **kw: Any) -> Any:
        calls.append(kw["key"])
        if len(calls) <= 3:  # the first run and Prefect's two retries
            raise ConnectionError("database went away after the mails were sent")
        return real(*args, **kw)

    monkeypatch.setattr(services, "record_action", crash_thrice)
    orchestra.tick()
    assert len(calls) == 3  # Prefect ran the task three times
    assert outbox(services.engine) == [("notify_institutions", "pending")]  # back, later
    sent = list(mail[0].keys())
    assert len(sent) == 3  # once each, though the task ran three times
    clock.advance(minutes=1)  # past the back-off
    orchestra.tick()
    assert outbox(services.engine) == [("notify_institutions", "done")]
    assert mail[0].keys() == sent  # the retry sent nothing again
    assert len(calls) == 4
    assert sum(e.kind == "action_done" for e in services.history(case.id)) == 1


def test_while_prefect_is_unreachable_work_waits_in_the_outbox(
        services: CaseServices, orchestra: Orchestrator, mail: tuple[MailInbox, int]) -> None:
    refer(services, route="reseau-cii", person={**PERSON, **CONTACT}, actor=ORP,
                       fields={})
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):  # nobody there
        orchestra.tick()
        assert orchestra.prefect_up is False
    assert outbox(services.engine) == [("notify_institutions", "pending")]
    assert mail[0].messages == []
    orchestra.tick()  # Prefect is back
    assert outbox(services.engine) == [("notify_institutions", "done")]
    assert len(mail[0].messages) == 3


def test_deadlines_fire_on_time_while_prefect_is_unreachable(
        services: CaseServices, orchestra: Orchestrator, clock: Clock) -> None:
    """The sweep is the database's work: a legal deadline does not wait for Prefect. Its
    actions (the reminder's mail) wait in the outbox until Prefect answers."""
    case = refer(services, route="reseau-cii", person={**PERSON, **CONTACT}, actor=ORP,
                              fields={}).case
    services.fire(case.id, "transmettre", actor=ORP)
    orchestra.sweep_every_s = 0.0
    due = services.get(case.id).deadline.due_at
    assert due is not None
    clock.now = due + timedelta(seconds=5)
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):  # nobody there
        orchestra.tick()
        assert orchestra.prefect_up is False
    reminded = [e for e in services.history(case.id) if e.kind == "deadline_reminded"]
    assert len(reminded) == 1 and reminded[0].data["lag_s"] == 5.0
    assert ("remind_owner", "pending") in outbox(services.engine)


def test_deadlines_fire_by_themselves_in_working_days(
        services: CaseServices, orchestra: Orchestrator, mail: tuple[MailInbox, int],
        clock: Clock) -> None:
    case = refer(services, route="reseau-cii", person={**PERSON, **CONTACT}, actor=ORP,
                              fields={}).case
    services.fire(case.id, "transmettre", actor=ORP)  # triage: the coordination's, 10 days
    orchestra.sweep_every_s = 0.0
    due = services.get(case.id).deadline.due_at
    assert due is not None
    clock.now = due - timedelta(seconds=1)
    orchestra.tick()
    assert services.get(case.id).deadline.level == 0
    clock.now = due + timedelta(seconds=30)
    orchestra.tick()
    reminded = services.history(case.id)[-2]  # then the reminder's own action_done
    assert reminded.kind == "deadline_reminded" and reminded.data["lag_s"] == 30.0
    reminder = mail[0].to("coordination-cii@cii.ne.example")
    assert len(reminder) == 1 and "Rappel" in str(reminder[0]["Subject"])


def test_a_person_without_email_gets_an_sms_or_a_printed_letter(
        services: CaseServices, orchestra: Orchestrator, tmp_path: Path) -> None:
    by_sms = refer(services, route="reseau-cii", person={**PERSON, "phone": "079 123 45 67"},
                                actor=ORP, fields={}).case
    services.fire(by_sms.id, "ecarter", actor=ORP, data=_reason("hors CII"))
    by_post = refer(services,
        route="reseau-cii", actor=SSR, fields={},
        person={"avs": "756.9217.0769.85", "official_name": "Favre", "first_name": "Léa",
                "birth_date": "1990-02-01", "sex": "2", "address": CONTACT["address"]}).case
    services.fire(by_post.id, "ecarter", actor=SSR, data=_reason("hors CII"))
    orchestra.tick()
    sms = list((tmp_path / "sms").glob("*.json"))
    assert len(sms) == 1 and '"+41791234567"' in sms[0].read_text()
    letter, body = documents(services, by_post.id)["notify_person-personne"]
    assert letter.kind == "letter" and body.startswith(b"%PDF")


def test_prefect_shows_every_action_run(services: CaseServices,
                                        orchestra: Orchestrator) -> None:
    case_id = to_assessment(services)
    orchestra.tick()
    with get_client(sync_client=True) as client:
        names = {r.name for r in client.read_task_runs(limit=200,
                                                       sort=TaskRunSort.EXPECTED_START_TIME_DESC)}
    for action, seq in (("notify_institutions", 1), ("gather_files", 3),
                        ("convene_assessment", 3)):
        assert f"{action} · {case_id} · #{seq}" in names


def _reason(text: str, outcome: str | None = None) -> Any:
    from relais.cases.domain.decide import EventInput
    return EventInput(reason=text, outcome=outcome)


# -- letters by recipient (issue 12, finding 7) -------------------------------------------

def window(document: bytes) -> list[str]:
    """What the post reads through a Swiss right-window envelope."""
    return [line.text for line in pdf_lines(document)
            if 110 <= line.x_mm <= 125 and 40 <= line.top_mm <= 95]


def test_the_round_table_convenes_the_person_and_writes_to_each_institution_as_one(
        services: CaseServices, orchestra: Orchestrator, mail: tuple[MailInbox, int]) -> None:
    case_id = to_assessment(services)
    orchestra.tick()
    docs = documents(services, case_id)

    # the person's letter: name and postal address in the window, "vous" to the person
    person = docs["convocation-personne"][1]
    assert window(person) == ["Jean Muster", "Rue des Parcs 12", "2000 Neuchâtel"]
    assert "avec vous" in pdf_text(person)

    # the OAI's: addressed to the OAI, not invited as if it were the person
    oai = docs["convocation-OAI-NE"][1]
    assert " ".join(window(oai)) == ("Office de l'assurance-invalidité du canton de Neuchâtel "
                                     "Espacité 4-5 2300 La Chaux-de-Fonds")
    text = pdf_text(oai)
    for persons_words in ("votre situation", "avec vous", "vous en êtes informé"):
        assert persons_words not in text, persons_words
    # who is convened: the person (the OAI sees the identity on LACI art. 85f, the lead
    # being the ORP) and the other partners; where and when; what the OAI brings
    invited = text[text.index("Sont convoqué"):text.index("À apporter")]
    assert "Jean Muster" in invited and "756.1234.5678.97" in invited
    assert "Office régional de placement du Littoral" in invited
    assert "Service social régional de Neuchâtel" in invited
    assert "assurance-invalidité" not in invited  # itself: "votre institution"
    assert "votre institution" in invited
    assert "Rue du Château 12, 2000 Neuchâtel" in text  # the coordination's: where
    assert "dossier AI" in text[text.index("À apporter"):]
    assert "art. 85f LACI" in text
    # the lead's own letter is to the attention of its case manager
    orp = pdf_text(docs["convocation-ORP-NE"][1])
    assert "attention de orp" in orp
    # the letter sent to the OAI is that letter, once
    [oai_mail] = [m for m in mail[0].to("oai@cii.ne.example") if "Convocation" in m["Subject"]]
    attached = next(oai_mail.iter_attachments())
    assert attached.get_content() == oai
    # what the letter disclosed is on record, as a read's disclosure is
    with services.engine.connect() as conn:
        from relais.cases.store.consents import ExchangeStore
        known = ExchangeStore(conn).known(case_id, "OAI-NE")
    assert ("identite", "LACI art. 85f") in known


def test_medical_data_go_only_to_the_institution_the_persons_consent_names(
        services: CaseServices, orchestra: Orchestrator) -> None:
    case = refer(services, route="reseau-cii", person={**PERSON, **CONTACT}, actor=ORP,
                              fields={"age": 48,
                                      "incapacite_travail_pct": 60}).case
    Sharing(services).record(ORP, case, grantor="Jean Muster", recipients=["OAI-NE"],
                             categories=["medical"], purpose="CII", valid_until=None)
    services.fire(case.id, "transmettre", actor=ORP)
    services.fire(case.id, "retenir", actor=COORD)
    orchestra.tick()
    docs = documents(services, case.id)
    oai_letter, oai_body = docs["convocation-OAI-NE"]
    oai = pdf_text(oai_body)
    assert "Incapacité de travail (%) : 60" in oai and "consentement de la personne" in oai
    assert oai_letter.category == "medical"  # filed as what it carries
    ssr_letter, ssr_body = docs["convocation-SSR-NE"]
    ssr = pdf_text(ssr_body)
    assert "Jean Muster" in ssr and "Incapacité" not in ssr  # identity by statute, no more
    assert "art. 85f LACI" in ssr and "consentement de la personne" not in ssr
    assert ssr_letter.category == "situation"


def test_the_persons_letter_goes_to_the_address_the_lead_changed(
        services: CaseServices, orchestra: Orchestrator) -> None:
    # referred without an address; the ORP records it later (PUT /api/cases/{id}/contact)
    case = refer(services, route="reseau-cii", person=PERSON, actor=ORP,
                              fields={"age": 48}).case
    services.fire(case.id, "transmettre", actor=ORP)
    services.change_contact(case.id, {"address": {"street": "Rue de la Côte 5",
                                                  "postcode": "2000", "town": "Neuchâtel"}},
                            actor=ORP, reason="nouvelle adresse")
    services.fire(case.id, "retenir", actor=COORD)
    orchestra.tick()
    letter, body = documents(services, case.id)["convocation-personne"]
    assert window(body) == ["Jean Muster", "Rue de la Côte 5", "2000 Neuchâtel"]
    assert letter.institution == "personne"


def test_notices_to_institutions_say_what_happened_and_what_each_has_to_do(
        services: CaseServices, orchestra: Orchestrator, mail: tuple[MailInbox, int]) -> None:
    case = refer(services, route="reseau-cii", person={**PERSON, **CONTACT}, actor=ORP,
                              fields={"age": 48}).case
    orchestra.tick()
    inbox = mail[0]
    [to_orp] = inbox.to("orp-littoral@cii.ne.example")
    [to_oai] = inbox.to("oai@cii.ne.example")
    orp, oai = to_orp.get_content(), to_oai.get_content()
    for body in (orp, oai):
        assert "vous en êtes informé" not in body and "informs you" not in body
        assert "signalé par Office régional de placement du Littoral" in body
    assert "À vous d'agir" in orp and "Aucune action n'est attendue de votre part" in oai
    assert "Your move" in orp and "No action is expected from you" in oai
    docs = documents(services, case.id)
    assert docs["notify_institutions-OAI-NE.txt"][1].decode().strip() == \
        oai.replace("\r\n", "\n").strip()


def test_a_letter_to_an_institution_without_a_basis_carries_nothing_withheld(
        services: CaseServices, orchestra: Orchestrator, oai_service: FileService) -> None:
    # social assistance leads: no statute lets it tell the ORP or the OAI about the person,
    # and the consent given at the referral is revoked once the case is taken on; the SSR's
    # own letter says everything
    case = refer(services, route="reseau-cii", person={**PERSON, **CONTACT}, actor=SSR,
                 fields={"age": 48, "signal": "sante_sans_assurance",
                         "incapacite_travail_pct": 60}).case
    services.fire(case.id, "transmettre", actor=SSR)
    services.fire(case.id, "retenir", actor=COORD, data=_reason("Santé fragile, sans AI"))
    for consent, _ in Sharing(services).consents(case):
        Sharing(services).revoke(SSR, consent.id)
    orchestra.tick()
    docs = documents(services, case.id)
    # nor is the OAI's system asked for the file of a person it may not be told of
    assert oai_service.requests == 0 and not any(n.startswith("dossier-OAI") for n in docs)
    gathered = next(e for e in services.history(case.id) if e.kind == "action_done"
                    and e.data["action"] == "gather_files").data["summary"]
    assert "OAI-NE" not in gathered["asked"] and "OAI-NE" in gathered["missing"]
    with services.engine.connect() as conn:
        assert Documents(conn).tasks(case_id=case.id, institution="OAI-NE") == []
    own = pdf_text(docs["convocation-SSR-NE"][1])
    assert "Jean Muster" in own and "Santé fragile" in own and "60" in own
    for code in ("ORP-NE", "OAI-NE"):
        text = pdf_text(docs[f"convocation-{code}"][1])
        for withheld in ("Muster", "756.1234", "Santé fragile", "sante_sans_assurance",
                         "Incapacité", "Rue des Parcs"):
            assert withheld not in text, (code, withheld)
        assert "la personne concernée" in text
        assert "ni base légale ni consentement" in text
    # the notices of its closing: the outcome and the reason to the SSR alone
    services.fire(case.id, "interrompre", actor=SSR,
                  data=_reason("Départ pour Genève", outcome="demenagement"))
    orchestra.tick()
    docs = documents(services, case.id)
    own = docs["notify_institutions-SSR-NE.txt"][1].decode()
    assert "Départ pour Genève" in own and "Départ du canton" in own
    assert "Le cas est clos : aucune action n'est attendue de votre part." in own
    for code in ("ORP-NE", "OAI-NE"):
        notice = docs[f"notify_institutions-{code}.txt"][1].decode()
        assert "« Interrompre » par Service social régional de Neuchâtel" in notice
        for withheld in ("Départ pour Genève", "Départ du canton", "Moved away", "Muster"):
            assert withheld not in notice, (code, withheld)
        assert "ni base légale ni consentement" in notice
