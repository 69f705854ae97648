"""The NE-ESO social enterprise: candidates from the social services, a 3-month observation
placement, then a contract with a subsidised wage (reviewed every 12 months), or back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from relais.cases.domain.actors import Actor

from .agent import CaseFlow
from .cohort_cmfp import MONTH
from .people import STAFF, People
from .scheduler import Agent, Sim

PER_YEAR = 35
FATES = [("refuse", 18), ("renonce", 25), ("contrat", 57)]
OUTCOMES = [("emploi", 30), ("entreprise_sociale", 35), ("retour_aide_sociale", 25),
            ("abandon", 10)]
NOT_TAKEN = ["Capacité de travail insuffisante pour l'instant / not enough capacity yet",
             "A trouvé un emploi entre-temps / found a job meanwhile",
             "Ne s'est pas présenté(e) à l'entretien / did not come to the interview"]
GIVEN_UP = [("retour_aide_sociale", "Rythme de travail trop exigeant / pace too demanding"),
            ("abandon", "Absences répétées pendant le stage / repeated absences")]


@dataclass
class Plan:
    at: datetime
    referrer: Actor
    fate: str
    outcome: str
    months: float


def plans(sim: Sim, start: datetime, scale: float) -> list[Plan]:
    rng = sim.rng
    days = (sim.until - start).days
    n = round(PER_YEAR * days / 365.25 * scale)
    out = []
    for _ in range(n):
        at = sim.office((start + timedelta(days=rng.uniform(0, days - 1))).date())
        fates, fw = zip(*FATES, strict=True)
        outcomes, ow = zip(*OUTCOMES, strict=True)
        out.append(Plan(at, rng.choice([STAFF.ssr, STAFF.ssr_lcf]), rng.choices(fates, fw)[0],
                        rng.choices(outcomes, ow)[0], rng.uniform(4, 30)))
    return sorted(out, key=lambda p: p.at)


def agent(sim: Sim, plan: Plan, people: People) -> Agent:
    rng, ssr = sim.rng, plan.referrer
    f = CaseFlow(sim)
    f.open("ne-eso", people.person(rng.randint(22, 58), sim.today()), ssr,
           {"aide_sociale": True}, "Candidature à l'entreprise sociale / application")
    yield from f.in_time(0.05)
    if plan.fate == "refuse":
        f.fire("refuser", ssr, reason=rng.choice(NOT_TAKEN))
        return
    f.fire("admettre_stage", ssr)
    yield from f.in_time(0.04, share=(0.8, 0.98) if plan.fate == "contrat" else (0.2, 0.8))
    if plan.fate == "renonce":
        outcome, why = rng.choice(GIVEN_UP)
        f.fire("renoncer", ssr, outcome=outcome, reason=why)
        return
    f.fire("engager", ssr, fields={"taux_activite_pct": rng.choice([50, 60, 80, 100])})
    yield sim.now + plan.months * MONTH  # each year the contract is reviewed (reevaluer)
    f.fire("cloturer", ssr, outcome=plan.outcome, reason="Fin du contrat / end of contract")
