"""The CII network's complex cases (reseau-cii): referred by the job centres, the disability
insurance and the social services; triage by the coordination; a round table whose plan
names the lead (handed on, sometimes refused); measures reviewed every 6 months; some cases
handed back to the institution that handed them on (revolving door); outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from relais.cases.domain.actors import Actor
from relais.cases.services import Outcome
from relais.cases.sharing import ReferralConsent
from relais.institutions.registry import Kind

from .agent import CaseFlow
from .cohort_cmfp import MONTH
from .measures import Placements
from .people import STAFF, People
from .scheduler import Agent, Sim

PER_YEAR = 70
REFERRERS = [(STAFF.orp, 22), (STAFF.orp_lcf, 18), (STAFF.oai, 20), (STAFF.ssr, 20),
             (STAFF.ssr_lcf, 20)]
FATES = [("sans_consentement", 4), ("ecarte", 10), ("oriente", 12), ("interrompu", 5),
         ("mesures", 69)]
SIGNALS = {Kind.AC: ["certificats_medicaux", "doute_capacite", "fin_de_droit_proche",
                     "echecs_mesures"],
           Kind.AI: ["detection_precoce", "refus_ai", "demande_ai_pendante"],
           Kind.SA: ["apres_fin_de_droit", "sante_sans_assurance", "jeune_sans_formation"]}
OUTCOMES = {Kind.AI: [("readaptation_ai", 30), ("rente_ai_partielle", 20),
                      ("rente_ai_entiere", 12), ("emploi_partiel", 20), ("structure_adaptee", 10),
                      ("abandon", 4), ("deces", 2), ("demenagement", 2)],
            Kind.AC: [("emploi_plein", 40), ("emploi_partiel", 25), ("formation", 12),
                      ("competence_reglee", 12), ("abandon", 6), ("demenagement", 5)],
            Kind.SA: [("stabilise_sa", 35), ("emploi_partiel", 25), ("structure_adaptee", 15),
                      ("formation", 12), ("abandon", 8), ("demenagement", 5)]}
SOLUTIONS = ("emploi_plein", "emploi_partiel", "formation")  # found, then followed up
REFUSED = ["Rapport médical manquant / medical report missing",
           "Compétence non établie : demande AI pas encore déposée / AI claim not yet filed",
           "Dossier incomplet : décision de fin de droit manquante / end-of-entitlement "
           "decision missing"]
BACK = {Kind.AI: "Refus AI : capacité entière dans une activité adaptée / AI refused: full "
                 "capacity in adapted work",
        Kind.AC: "Fin de droit AC : retour à l'institution précédente / end of AC "
                 "entitlement",
        Kind.SA: "Reprise d'activité impossible sans soutien AI / work impossible without "
                 "AI support"}


@dataclass
class Plan:
    at: datetime
    referrer: Actor
    fate: str
    lead: Actor  # the plan's lead (mesures) or the one institution it is sent to (oriente)
    outcome: str
    months: float
    back: bool  # handed back to the institution that handed it on


def _regional(kind: Kind, region: str) -> Actor:
    if kind == Kind.AI:
        return STAFF.oai
    if kind == Kind.AC:
        return STAFF.orp if region == "NE" else STAFF.orp_lcf
    return STAFF.ssr if region == "NE" else STAFF.ssr_lcf


def _pick(sim: Sim, weighted: list[tuple[str, int]]) -> str:
    names, weights = zip(*weighted, strict=True)
    return str(sim.rng.choices(names, weights)[0])


def plans(sim: Sim, start: datetime, scale: float) -> list[Plan]:
    rng = sim.rng
    days = (sim.until - start).days
    n = round(PER_YEAR * days / 365.25 * scale)
    referrers, weights = zip(*REFERRERS, strict=True)
    out = []
    for _ in range(n):
        at = sim.office((start + timedelta(days=rng.uniform(0, days - 1))).date())
        referrer = rng.choices(referrers, weights)[0]
        region = "LCF" if referrer.institution.endswith("LCF") else (
            "NE" if referrer.kind != Kind.AI else rng.choice(["NE", "LCF"]))
        kind = rng.choices([Kind.AI, Kind.AC, Kind.SA], [45, 30, 25])[0]
        lead = _regional(kind, region)
        out.append(Plan(at, referrer, _pick(sim, FATES), lead, _pick(sim, OUTCOMES[kind]),
                        rng.uniform(3, 24), lead != referrer and rng.random() < 0.14))
    return sorted(out, key=lambda p: p.at)


def _signers(f: CaseFlow) -> list[Actor]:
    """The case's lead and the partners recorded for its joint step, one of each kind."""
    first: dict[Kind, Actor] = {}
    for code in (f.case.lead, *f.case.partners):
        actor = STAFF.of(code)
        first.setdefault(actor.kind, actor)
    return [first[k] for k in (Kind.AC, Kind.AI, Kind.SA) if k in first]


def agent(sim: Sim, plan: Plan, people: People, placements: Placements) -> Agent:
    rng, coord = sim.rng, STAFF.coord
    f = CaseFlow(sim)
    age = rng.randint(19, 62)
    person = people.person(age, sim.today())
    f.open("reseau-cii", person, plan.referrer,
           {"age": age, "signal": rng.choice(SIGNALS[plan.referrer.kind]),
            "incapacite_travail_pct": rng.choice([50, 70, 100])},
           "Situation complexe : santé et emploi / health and work",
           consent=None if plan.fate == "sans_consentement" else ReferralConsent(
               f"{person['first_name']} {person['official_name']}"))
    yield from f.in_time(0.04, share=(0.1, 0.5))
    if plan.fate == "sans_consentement":
        f.fire("ecarter", plan.referrer, reason="La personne refuse l'échange de données / "
                                                "no consent to data exchange")
        return
    f.fire("transmettre", plan.referrer)
    yield from f.in_time(0.06)  # the coordination's entry check
    if plan.fate == "ecarte":
        f.fire("ecarter", coord, reason="Pas un cas complexe : aucune coordination nécessaire "
                                        "/ not complex")
        return
    if plan.fate == "oriente":
        why = f"Une seule institution suffit : {plan.lead.institution} / one institution"
        if not (yield from f.handoff(lambda _: f.fire("orienter", coord, lead=plan.lead.institution,
                                                      reason=why), refuse=0.15, reasons=REFUSED)):
            f.fire("orienter", coord, lead=plan.lead.institution, reason=why)
        return
    f.fire("retenir", coord)
    yield from f.in_time(0.05, share=(0.5, 0.9))  # the round table
    if plan.fate == "interrompu":
        f.fire("interrompre", f.lead(), outcome=rng.choice(["abandon", "demenagement"]),
               reason="La personne ne se présente plus / the person stopped coming")
        return
    yield from round_table(f, plan)
    placements.begin(f)  # the lead asks for the plan's places
    yield from f.in_time(0.06)
    f.fire("lancer", f.lead())
    end = sim.now + plan.months * MONTH
    if plan.back:
        yield from f.keep_up(sim.now + (end - sim.now) * rng.uniform(0.3, 0.6), resume="lancer",
                             review_state="plan", actor=f.lead)
        yield from hand_back(f, plan)
    yield from f.keep_up(end, resume="lancer", review_state="plan", actor=f.lead)
    if f.case.state == "plan":
        f.fire("lancer", f.lead(), reason="Plan revu / plan reviewed")
    if plan.outcome in SOLUTIONS:
        f.fire("solution_trouvee", f.lead())
        placements.close(f, "Solution trouvée / solution found")
        yield from f.in_time(0.05, share=(0.4, 0.9))
    f.fire("cloturer", f.lead(), outcome=plan.outcome, reason="Bilan de clôture / closing "
                                                              "review")
    placements.close(f, "Cas clos / case closed")


def round_table(f: CaseFlow, plan: Plan) -> Agent:
    """The plan signed by AC, AI and SA, naming the lead; refused, it is signed again."""
    # the plan names the partner of the kind the plan's lead is of: the case's own partners
    lead = next((a for a in _signers(f) if a.kind == plan.lead.kind), plan.lead)
    plan.lead = lead

    def sign(_: int) -> Outcome:
        signers = _signers(f)  # as they are now: the coordination may have named the lead
        first, *others = sorted(signers, key=lambda a: a.institution != f.case.lead)
        out = f.fire("planifier", first, lead=lead.institution)
        if out.case.signoff is None or out.case.signoff.status != "open":
            return out  # the plan signed before still holds: it took effect, or its handoff
        for a in others:
            out = f.fire("planifier", a)
        return out

    if not (yield from f.handoff(sign, refuse=0.15, reasons=REFUSED, expire=0.02)):
        sign(0)  # the coordination named the lead: the plan signed before takes effect


def hand_back(f: CaseFlow, plan: Plan) -> Agent:
    """The lead hands the case back to the institution that handed it on (revolving door);
    refused, it goes to the third institution instead."""
    if f.case.state not in ("plan", "mesures"):
        return
    back = f.case.handed_on[-1] if f.case.handed_on else plan.referrer.institution
    others = [a.institution for a in _signers(f) if a.institution not in (back, f.case.lead)]
    why = BACK[f.lead().kind]

    def propose(attempt: int) -> Outcome:
        to = back if attempt == 0 or not others else others[0]
        return f.fire("confier", f.lead(), lead=to, reason=why)

    yield from f.handoff(propose, refuse=0.3, reasons=[
        "Ne relève plus de notre loi : voir l'aide sociale / no longer ours to handle"])
    plan.outcome = _pick(f.sim, OUTCOMES[f.lead().kind])
