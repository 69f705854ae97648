"""The demonstration: journeys A, B and C of the CII network, through the real engine.

Each journey runs on a simulated clock (so that months pass in a second), against the
configured database (SQLite under ./var by default), and prints the route, the changes of
lead, the deadlines in the canton's working days, and the history with its hash chain.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import typer

from relais.cases.domain.actors import Actor
from relais.cases.domain.avs import ean13_check_digit, format_avs
from relais.cases.domain.decide import EventInput
from relais.cases.services import CaseServices, Outcome
from relais.cases.sharing import ReferralConsent, Sharing
from relais.cases.store.audit import verify
from relais.institutions.dates import deadline_end, swiss_date
from relais.institutions.registry import Kind, Role

from .wiring import build_services


def avs(n: int) -> str:
    first12 = f"756{n:09d}"
    return format_avs(first12 + str(ean13_check_digit(first12)))


def actor(user: str, code: str, kind: Kind, role: Role = Role.case_manager) -> Actor:
    return Actor(user, code, kind, role)


ORP = actor("m.robert", "ORP-NE", Kind.AC)
OAI = actor("p.girard", "OAI-NE", Kind.AI)
SSR = actor("l.favre", "SSR-LCF", Kind.SA)
SSR_NE = actor("n.berset", "SSR-NE", Kind.SA)  # the partners of Neuchâtel's cases
ORP_LCF = actor("j.monnier", "ORP-LCF", Kind.AC)  # and of La Chaux-de-Fonds'

OFIJ = actor("s.jacot", "OFIJ-NE", Kind.FP)
SMIG = actor("a.haddad", "SMIG-NE", Kind.MIG)
COORD = actor("c.perrin", "CII-NE", Kind.CII, Role.coordinator)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Journey:
    def __init__(self, services: CaseServices, clock: Clock, title: str) -> None:
        self.s, self.clock, self.case_id = services, clock, ""
        typer.secho(f"\n━━ {title}", bold=True)

    def show(self, out: Outcome, what: str) -> Outcome:
        c = out.case
        lead = c.lead + (f" → {c.handoff.receiver} ? (transfert en attente jusqu'au "
                         f"{deadline_end(c.handoff.due_at)})" if c.handoff else "")
        status = {"handoff": " [202: attend l'acceptation]", "signed": " [signature]"}.get(
            out.status, "")
        typer.echo(f"  {swiss_date(self.clock.now)}  {what:<46} état {c.state:<13} "
                   f"responsable {lead}  délai {deadline_end(c.deadline.due_at)}{status}")
        self.case_id = c.id
        return out

    def do(self, what: str, call: Callable[..., Outcome], *args: Any, **kw: Any) -> Outcome:
        return self.show(call(*args, **kw), what)

    def fire(self, what: str, event: str, who: Actor, **inp: Any) -> Outcome:
        return self.do(what, self.s.fire, self.case_id, event, actor=who,
                       data=EventInput(**inp))

    def accept(self, what: str, who: Actor) -> Outcome:
        h = self.s.get(self.case_id).handoff
        assert h is not None
        return self.do(what, self.s.accept_handoff, h.id, actor=who)

    def sweep(self, what: str) -> None:
        report = self.s.sweep_deadlines()
        self.show(Outcome(self.s.get(self.case_id), "done", []),
                  f"{what} ({report.events} év.)")

    def history(self) -> None:
        route = self.s.route_of(self.s.get(self.case_id))
        typer.echo(f"  Historique ({route.title['fr']}, v{route.version}) :")
        for e in self.s.history(self.case_id):
            move = f"{e.from_state or ''} → {e.to_state}" if e.to_state else ""
            typer.echo(f"   #{e.seq:<2} {swiss_date(e.at)} {e.kind:<19} {e.event or '':<17} "
                       f"{move:<28} {e.institution:<8} {e.actor:<10} {e.hash[:10]}"
                       + (f"  « {e.reason} »" if e.reason else ""))


def journey_a(s: CaseServices, clock: Clock) -> None:
    j = Journey(s, clock, "A — maçon, 48 ans : AC → AI → emploi adapté (réseau CII)")
    j.do("ORP signale le cas (certificats médicaux)", Sharing(s).refer, ORP,
         consent=ReferralConsent("Daniel Rochat"), route="reseau-cii",
         person={"avs": avs(100000001), "official_name": "Rochat", "first_name": "Daniel",
                 "birth_date": "1978-03-14", "sex": "1", "nationality": "CH",
                 "email": "daniel.rochat@example.org"},
         fields={"age": 48, "signal": "certificats_medicaux", "incapacite_travail_pct": 100},
         reason="Dos, certificats répétés")
    j.fire("ORP transmet à la coordination", "transmettre", ORP)
    clock.advance(days=7)
    j.fire("Coordination CII retient le cas", "retenir", COORD)
    j.do("ORP : demande AI déposée", s.update_fields, j.case_id, {"demande_ai": True},
         actor=ORP)
    clock.advance(days=20)
    j.fire("Table ronde : ORP signe le plan (lead OAI)", "planifier", ORP, lead="OAI-NE",
           fields={"capacite_adaptee_pct": 80})
    j.fire("OAI signe le plan", "planifier", OAI)
    j.fire("SSR signe le plan → transfert proposé", "planifier", SSR_NE)
    clock.advance(days=2)
    j.accept("OAI accepte : devient responsable", OAI)
    j.fire("OAI lance orientation puis reclassement", "lancer", OAI)
    clock.advance(days=150)
    j.fire("Placement avec allocation d'initiation", "solution_trouvee", OAI)
    clock.advance(days=200)
    j.sweep("Délai du suivi échu : rappel")
    j.fire("Clôture : emploi adapté 80 %", "cloturer", OAI, outcome="emploi_partiel",
           reason="Emploi adapté à 80 %")
    j.history()


def journey_b(s: CaseServices, clock: Clock) -> None:
    j = Journey(s, clock, "B — mère seule, 31 ans : SA → AI → rente partielle (réseau CII)")
    j.do("SSR signale le cas (après fin de droit)", Sharing(s).refer, SSR,
         consent=ReferralConsent("Sarah Dubois", categories=("identite", "situation",
                                                             "medical")), route="reseau-cii",
         person={"avs": avs(100000002), "official_name": "Dubois", "first_name": "Sarah",
                 "birth_date": "1995-06-02", "sex": "2", "nationality": "CH",
                 "phone": "079 555 01 02"},
         fields={"age": 31, "signal": "apres_fin_de_droit", "incapacite_travail_pct": 100})
    j.fire("SSR transmet à la coordination", "transmettre", SSR)
    clock.advance(days=5)
    j.fire("Coordination CII retient le cas", "retenir", COORD)
    clock.advance(days=25)
    j.fire("SSR signe le plan (lead OAI)", "planifier", SSR, lead="OAI-NE")
    j.fire("ORP signe le plan", "planifier", ORP_LCF)
    j.fire("OAI signe le plan → transfert proposé", "planifier", OAI)
    h = s.get(j.case_id).handoff
    assert h is not None
    j.do("OAI refuse : dossier médical incomplet", s.refuse_handoff, h.id, actor=OAI,
         reason="Rapport du psychiatre manquant")
    clock.advance(days=10)
    # the plan all three signed still holds: its handoff is proposed again, no new signatures
    j.fire("SSR propose à nouveau le transfert signé (rapport joint)", "planifier", SSR,
           lead="OAI-NE")
    j.accept("OAI accepte ; le SSR continue l'aide matérielle", OAI)
    j.fire("Mesure de réinsertion (≤ 1 an)", "lancer", OAI)
    clock.advance(days=200)
    j.sweep("6 mois échus : « revoir » part tout seul")
    j.fire("Plan revu, mesures reprises", "lancer", OAI)
    clock.advance(days=90)
    j.fire("Décision AI : rente partielle, emploi 50 %", "cloturer", OAI,
           outcome="rente_ai_partielle", reason="Rente 50 % et emploi à 50 %")
    j.history()


def journey_c(s: CaseServices, clock: Clock) -> None:
    j = Journey(s, clock, "C — jeune admis provisoire, 19 ans : migration → AFP (CMFP)")
    j.do("Service des migrations signale au CMFP", s.open_case, route="cmfp",
         person={"avs": avs(100000003), "official_name": "Tesfaye", "first_name": "Yonas",
                 "birth_date": "2007-01-20", "sex": "1", "nationality": "ER",
                 "address": {"street": "Rue des Fahys 21", "postcode": "2000",
                             "town": "Neuchâtel"}},
         actor=SMIG, fields={"age": 19, "statut_sejour": "admission_provisoire",
                             "problematiques_multiples": True, "suivi_deja_assure": False},
         reason="Abandon du préapprentissage")
    j.fire("Transmis au CMFP → transfert proposé", "transmettre", SMIG)
    clock.advance(days=3)
    j.accept("OFIJ (CMFP) accepte le cas", OFIJ)
    clock.advance(days=5)
    j.fire("Admis : critères remplis", "admettre", OFIJ)
    j.fire("Coaching, recherche de stage", "accompagner", OFIJ)
    clock.advance(days=60)
    # the AI is told of Yonas only on his consent (a training lead has no statute for it):
    # the OFIJ records the form he signed before it asks for the assessment
    Sharing(s).record(OFIJ, s.get(j.case_id), grantor="Yonas Tesfaye", recipients=["OAI-NE"],
                      categories=["identite", "situation"],
                      purpose="Bilan AI : trouble d'apprentissage suspecté", valid_until=None)
    typer.echo(f"  {swiss_date(clock.now)}  Yonas consent au bilan AI (formulaire signé)")
    j.fire("Trouble d'apprentissage suspecté : bilan AI", "demander_bilan_ai", OFIJ,
           reason="Dyslexie suspectée")
    clock.advance(days=30)
    j.fire("OAI rend son bilan (le lead ne change pas)", "bilan_rendu", OAI)
    clock.advance(days=700)
    j.fire("AFP obtenue", "cloturer", OFIJ, outcome="cfc_afp", reason="AFP en 2 ans")
    j.history()


def run(database: str | None = None) -> None:
    clock = Clock(datetime(2026, 1, 12, 8, 30, tzinfo=UTC))
    services = build_services(database, clock=clock)
    typer.secho(f"Relais — démonstration sur {services.engine.url.render_as_string()}", bold=True)
    typer.echo("Délais comptés en jours ouvrables de Neuchâtel (CH-NE) ; dates simulées.")
    for journey in (journey_a, journey_b, journey_c):
        clock.now = datetime(2026, 1, 12, 8, 30, tzinfo=UTC)
        journey(services, clock)
    report = verify(services.engine)
    typer.secho(f"\nAudit : {report.cases} cas, {report.events} événements, chaîne de hachage "
                f"et rejeu {'intègres' if report.ok else 'EN ÉCHEC'}", bold=True)
    for p in report.problems:
        typer.echo(f"  {p}")
