"""The actions a route starts. Each runs as a task run of its batch's flow run
(``batch.run_actions``: the function of the flow below), or as a flow run of its own
(``per_row``), named after the action and the case, so that Prefect's UI shows every action.

Every action works from the event that queued it (``facts.case_at``), does its visible
effects once each (``Runtime.once``: mails, SMS, each on record as soon as it is done), and
brings its result back as one ``action_done`` event through ``cases.outbox_services``, once
per idempotency key. A flow never writes a case row itself, nor imports the store.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait
from contextvars import copy_context
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext

from relais.cases.domain.case import Handoff
from relais.cases.domain.results import TASK_PROVIDE_FILE, Document, Task
from relais.cases.letters import (
    ANY_FILE,
    FILES_TO_BRING,
    legal_to_institution,
    pdf,
    render,
    salutation,
)
from relais.cases.outbox_services import CaseAt
from relais.i18n import tr
from relais.institutions.calendar import calendar
from relais.institutions.dates import local_day, swiss_date
from relais.institutions.registry import Institution

from .channels import Attachment, Mail, Sms
from .facts import (
    case_at,
    category_of_letter,
    happened,
    institution,
    named,
    partners_of,
    person_told,
    recipient_block,
    situation_told,
    template_context,
    todo,
    told,
)
from .limits import slot, tagged
from .runtime import Runtime, current
from .sources import InstitutionFile

MEETING_AFTER = 10  # working days from the decision to the round table: time to plan
ANSWER_BEFORE = 3  # working days before it, the person may ask for another date
MEETING_TIME = "14:00"
RUN_NAME = "{work[action]} · {work[case_id]} · #{work[seq]}"
PERSON = "personne"  # a document's addressee when it is the person, not an institution


# -- tasks: one unit of work each, retried by Prefect before the outbox retries the action --

# no Prefect timeout: in a worker thread it cannot interrupt a blocking call; each source
# bounds its own calls (HttpSource: 15 s)
@task(retries=2, retry_delay_seconds=[1, 5], cache_policy=NO_CACHE, persist_result=False)
def fetch_file(code: str, avs: str) -> list[InstitutionFile]:
    rt = current()
    source = rt.sources.for_institution(code)
    return [] if source is None else source.fetch(rt.services.registry.get(code), avs)


# a send runs only for an effect not on record when the action started (``_deliver``)
def _send_mail(mail: Mail, case_id: str, action: str) -> dict[str, Any]:
    rt = current()
    with slot("smtp"):
        return rt.once(mail.key, action=action, case_id=case_id, done={},
                       act=lambda: {"channel": "email", "to": mail.to,
                                    "message_id": rt.mailer.send(mail)})


def _send_sms(sms: Sms, case_id: str, action: str) -> dict[str, Any]:
    rt = current()
    with slot("sms"):
        return rt.once(sms.key, action=action, case_id=case_id, done={},
                       act=lambda: {"channel": "sms", "to": sms.to, "ref": rt.sms.send(sms)})


# as task runs of their own where the action is a flow run of its own (``per_row``)
send_mail = task(retries=3, retry_delay_seconds=[2, 10, 30], cache_policy=NO_CACHE,
                 persist_result=False, name="send_mail")(_send_mail)
send_sms = task(retries=3, retry_delay_seconds=[2, 10, 30], cache_policy=NO_CACHE,
                persist_result=False, name="send_sms")(_send_sms)


class Started:
    """What an action run knows when it starts: its work, and what of it is on record
    already (nothing at a first attempt; see ``OutboxServices.effects_done``)."""

    def __init__(self, rt: Runtime, work: dict[str, Any]) -> None:
        self.work = work
        self.done = rt.outbox.effects_done(work["key"], work.get("attempts"))

    @property
    def recorded(self) -> dict[str, Any] | None:
        """The summary of this action, when its result is on record already."""
        own = self.done.get(self.work["key"])
        return dict(own["summary"]) if own is not None else None


def _deliver(started: Started, message: Mail | Sms) -> None:
    """Send unless on record. Inside an action's task run (a batch), the send is a plain call
    with a log line: a task run per mail cost ~20 ms of Prefect each, as much as the action
    itself (docs/benchmarks.md, issue 15); a failed send fails the action's task, whose
    retry resumes from the ledger. In a flow run of its own, a task run per send."""
    if message.key in started.done:
        return
    case_id, action = started.work["case_id"], started.work["action"]
    in_task = TaskRunContext.get() is not None
    if isinstance(message, Mail):
        if not in_task:
            send_mail(message, case_id, action)
            return
        sent = _send_mail(message, case_id, action)
    else:
        if not in_task:
            send_sms(message, case_id, action)
            return
        sent = _send_sms(message, case_id, action)
    get_run_logger().info("%s : %s", message.key, sent.get("message_id") or sent.get("ref"))


# -- gather_files ------------------------------------------------------------------------

@flow(name="gather_files", flow_run_name=RUN_NAME, validate_parameters=False)
def gather_files(work: dict[str, Any]) -> dict[str, Any]:
    """Ask every institution taking part for its file, in parallel; a file nobody could
    fetch becomes a task for its institution, not a failure of the case."""
    rt = current()
    started = Started(rt, work)
    if started.recorded is not None:
        return started.recorded
    at = case_at(rt, work["case_id"], work["seq"])
    # asking an institution's system for the file of an AVS number tells it of the person:
    # only where it may be told (the disclosure recorded), never to one without a basis
    asked, missing = [], {}
    for i in partners_of(rt, at):
        if told(rt, at, i, {"identite"}).sees("identite"):
            asked.append(i)
        else:
            missing[i.code] = ("ni base légale ni consentement pour nommer la personne / no "
                               "basis to name the person")
    futures = _fetch_each([i.code for i in asked], at.person.avs)
    documents: list[Document] = []
    tasks: list[Task] = []
    for code, future in futures.items():
        try:
            files = future.result()
            why = "aucun dossier / no file"
        except Exception as exc:  # after the task's own retries: leave a task, go on
            files, why = [], f"indisponible / unavailable ({type(exc).__name__})"
        for n, f in enumerate(files, start=1):
            documents.append(Document(f"dossier-{code}-{n}", "file", code, f.category,
                                      f.title, f.media_type, f.content))
        if not files:
            missing[code] = why
            tasks.append(Task(code, TASK_PROVIDE_FILE, (
                f"Déposer le dossier de {institution(rt, code).name['fr']} pour le cas "
                f"{at.ref} ({why}) / Provide the file for case {at.ref}")))
    summary = {"asked": list(futures), "gathered": sorted({d.institution for d in documents}),
               "missing": missing}
    rt.outbox.record_action(at, key=work["key"], action="gather_files", summary=summary,
                            documents=documents, tasks=tasks)
    return summary


def _fetch_each(codes: list[str], avs: str) -> dict[str, Any]:
    """A ``fetch_file`` task run per institution, side by side; their futures, resolved.
    Inside an action's task run, in threads of its own: submitted to the batch's task runner,
    four actions each waiting for its fetches would hold its four threads, and the fetches
    would never start (seen: a batch of ``gather_files`` hung for good)."""
    if TaskRunContext.get() is None:
        return {c: tagged(fetch_file, f"source:{c}").submit(c, avs) for c in codes}
    with ThreadPoolExecutor(max_workers=max(1, len(codes)),
                            thread_name_prefix="relais-fetch") as pool:
        futures = {c: pool.submit(copy_context().run, tagged(fetch_file, f"source:{c}"), c, avs)
                   for c in codes}
        wait(list(futures.values()))
    return futures


# -- convene_assessment ------------------------------------------------------------------

@flow(name="convene_assessment", flow_run_name=RUN_NAME, validate_parameters=False)
def convene_assessment(work: dict[str, Any]) -> dict[str, Any]:
    """Pick a working day for the round table, invite the person and every partner with
    the convocation letter (HTML and PDF)."""
    rt = current()
    started = Started(rt, work)
    if started.recorded is not None:
        return started.recorded
    at = case_at(rt, work["case_id"], work["seq"])
    cal = calendar(at.route.calendar)
    decided = local_day(at.event.at)
    day = cal.add_working_days(decided, MEETING_AFTER)
    coordination = institution(rt, rt.services.policy.coordination)
    meeting = {"day": day, "time": MEETING_TIME,
               "place": coordination.address or coordination.city}
    partners = partners_of(rt, at)
    common = template_context(
        rt, at, lang="fr", title=f"Convocation — {at.ref}", sender=named(rt, coordination.code),
        meeting=meeting, partners=[named(rt, p.code) for p in partners], manager=None,
        answer_by=cal.add_working_days(decided, MEETING_AFTER - ANSWER_BEFORE))
    p = at.person
    person_letter = _letter(f"convocation-{PERSON}", PERSON, "letters/convocation.html", {
        **common, "recipient": {"name": f"{p.first_name} {p.official_name}",
                                "lines": _address_lines(p.address)}})
    letters = [person_letter] + [_convocation_to(rt, at, i, partners, common) for i in partners]
    when = f"{swiss_date(day)} {MEETING_TIME}, {meeting['place']}"
    subject = f"Convocation à une table ronde le {when} / Round table — {at.ref}"
    text = (f"Table ronde CII le {when}. Dossier {at.ref}. Convocation jointe. / "
            f"CII round table on {when}. Letter attached.")
    sent = {PERSON: _to_person(rt, at, started, subject, text, person_letter)}
    for i, letter in zip(partners, letters[1:], strict=True):
        sent[i.code] = _mail_institution(rt, at, started, i.code, subject, text, letter)
    summary = {"meeting": {"day": day.isoformat(), "time": MEETING_TIME,
                           "place": meeting["place"]},
               "invited": [i.code for i in partners], "sent": sent}
    rt.outbox.record_action(at, key=work["key"], action="convene_assessment",
                            summary=summary, documents=letters)
    return summary


def _convocation_to(rt: Runtime, at: CaseAt, i: Institution, partners: list[Institution],
                    common: dict[str, Any]) -> Document:
    """The convocation written to institution ``i``: the person and the other partners
    convened, what ``i`` brings, and of the person only what ``i`` may see."""
    reason = at.event.reason
    asked = {"identite", *(["situation"] if reason else []),
             *(at.route.fields[k].category if k in at.route.fields else "situation"
               for k in at.case.fields)}
    view = told(rt, at, i, asked)
    return _letter(f"convocation-{i.code}", i.code, "letters/convocation_institution.html", {
        **common, "lang": i.lang, "salutation": salutation(None),
        "title": tr(i.lang, "Invitation — %(ref)s") % {"ref": at.ref},
        "recipient": recipient_block(at, i),
        "attention": at.case.manager if i.code == at.case.lead else None,
        "convened": [named(rt, o.code) for o in partners if o.code != i.code],
        "person": person_told(at, view), "situation": situation_told(at, view, reason),
        "bring": FILES_TO_BRING.get(i.kind, ANY_FILE),
        "legal": legal_to_institution(view.shown, asked=True)},
        category=category_of_letter(view))


# -- messages ----------------------------------------------------------------------------

SUBJECTS = {
    "notify_person": "Votre dossier {ref} / Your file",
    "notify_institutions": "Cas {ref} : nouvelle étape / new step",
    "remind_owner": "Rappel : délai échu, cas {ref} / Reminder: deadline passed",
    "alert_coordination": "Escalade : cas {ref} / Escalation",
    "notify_receiver": "Transfert proposé : cas {ref} / Handoff proposed",
    "notify_sender": "Transfert refusé : cas {ref} / Handoff refused",
}


@flow(name="notify", flow_run_name=RUN_NAME, validate_parameters=False)
def notify(work: dict[str, Any]) -> dict[str, Any]:
    """A message from ``templates/messages/<action>.txt.j2`` to whoever the action names."""
    rt = current()
    action = work["action"]
    started = Started(rt, work)
    if started.recorded is not None:
        return started.recorded
    at = case_at(rt, work["case_id"], work["seq"])
    context = template_context(rt, at, **_extra(at, action))
    text = render(f"messages/{action}.txt", context) if action != "notify_institutions" else ""
    subject = SUBJECTS[action].format(ref=at.ref)
    documents: list[Document] = []
    sent: dict[str, Any] = {}
    for code in _recipients(rt, at, action):
        if code == PERSON:
            letter = None
            if not (at.person.email or at.person.phone):  # nothing but the post
                letter = _letter(f"{action}-{PERSON}", PERSON, "letters/message.html", {
                    **context, "lang": "fr", "title": subject,
                    "sender": named(rt, at.case.lead), "paragraphs": text.split("\n"),
                    "recipient": {"name": f"{at.person.first_name} {at.person.official_name}",
                                  "lines": _address_lines(at.person.address)}})
                documents.append(letter)
            sent[PERSON] = _to_person(rt, at, started, subject, text, letter)
        elif action == "notify_institutions":  # written to each: what it may read, its part
            said, category = _notice_to(rt, at, institution(rt, code), context)
            sent[code] = _mail_institution(rt, at, started, code, subject, said, None)
            documents.append(Document(f"{action}-{code}.txt", "message", code, category,
                                      subject, "text/plain; charset=utf-8", said.encode()))
            continue
        else:
            sent[code] = _mail_institution(rt, at, started, code, subject, text, None)
        documents.append(Document(f"{action}-{code}.txt", "message", code,
                                  "identite" if code == PERSON else "situation", subject,
                                  "text/plain; charset=utf-8", text.encode()))
    summary = {"sent": sent}
    rt.outbox.record_action(at, key=work["key"], action=action, summary=summary,
                            documents=documents)
    return summary


def _notice_to(rt: Runtime, at: CaseAt, i: Institution, context: dict[str, Any]
               ) -> tuple[str, str]:
    """A notice to institution ``i``: what happened, what ``i`` has to do, and the outcome
    or the reason only if ``i`` may read the situation (a notice without them reads
    nothing: no statement). The text, and the category it is filed under."""
    outcome = at.route.outcomes.get(at.case.outcome or "") if at.state.final else None
    reason = at.event.reason
    asked = {"situation"} if outcome or reason else set()
    view = told(rt, at, i, asked)
    situation = {"outcome": dict(outcome) if outcome else None, "reason": reason} \
        if view.sees("situation") else None
    text = render("messages/notify_institutions.txt", {
        **context, "happened": happened(rt, at), "todo": todo(rt, at, i),
        "situation": situation, "legal": legal_to_institution(view.shown, asked=bool(asked))})
    return text, "situation" if situation else "identite"


def _handoff(at: CaseAt) -> Handoff | None:
    """The pending handoff, or the one the event decided (read from the case before it:
    only the handoff messages ask, so that the others read no history)."""
    return at.case.handoff or (at.before.handoff if at.before else None)


def _extra(at: CaseAt, action: str) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if action == "remind_owner" and at.before is not None:
        extra["due"] = at.before.deadline.due_at
    if action == "notify_receiver" and (handoff := _handoff(at)) is not None:
        extra["deadline"] = handoff.due_at
    if action == "alert_coordination":
        extra["reason"] = at.event.reason or at.case.revolving_door or ""
    return extra


def _recipients(rt: Runtime, at: CaseAt, action: str) -> list[str]:
    if action == "notify_person":
        return [PERSON]
    if action == "notify_institutions":
        return [i.code for i in partners_of(rt, at)]
    if action == "remind_owner":
        owner = at.state.owner
        if owner == ("coordination",):
            return [rt.services.policy.coordination]
        if owner in ((), ("lead",)):
            return [at.case.lead]
        return [i.code for i in partners_of(rt, at)]
    if action == "alert_coordination":
        return [rt.services.policy.coordination]
    if action in ("notify_receiver", "notify_sender") and (handoff := _handoff(at)) is not None:
        return [handoff.receiver if action == "notify_receiver" else handoff.sender]
    return []


# -- delivery ----------------------------------------------------------------------------

def _letter(name: str, to: str, template: str, context: dict[str, Any], *,
            category: str = "identite") -> Document:
    html = render(template, context)
    return Document(name, "letter", to, category, str(context["title"]), "application/pdf",
                    pdf(html, str(context["title"])))


def _address_lines(address: dict[str, str] | None) -> list[str]:
    if not address:
        return []
    return [address["street"], f"{address['postcode']} {address['town']}"]


def _to_person(rt: Runtime, at: CaseAt, started: Started, subject: str, text: str,
               letter: Document | None) -> str:
    """E-mail if we have an address, else SMS if we have a mobile; a letter, when there is
    one, is also stored to be printed and posted."""
    p, key = at.person, started.work["key"]
    if p.email:
        attach = (Attachment(f"{letter.name}.pdf", letter.media_type, letter.content),) \
            if letter else ()
        _deliver(started, Mail(f"{key}/mail/{p.email}", p.email, subject, text, attach))
        return "email"
    if p.phone:
        _deliver(started, Sms(f"{key}/sms/{p.phone}", p.phone, text[:640]))
        return "sms" + ("+courrier" if letter else "")
    return "courrier / letter" if letter else "aucun moyen / no way to reach"


def _mail_institution(rt: Runtime, at: CaseAt, started: Started, code: str, subject: str,
                      text: str, letter: Document | None) -> str:
    to = institution(rt, code).email
    if not to:
        return "aucune adresse / no address"
    attach = (Attachment(f"{letter.name}.pdf", letter.media_type, letter.content),) \
        if letter else ()
    _deliver(started, Mail(f"{started.work['key']}/mail/{to}", to, subject, text, attach))
    return "email"


ACTIONS = {"gather_files": gather_files, "convene_assessment": convene_assessment,
           **{name: notify for name in SUBJECTS}}
