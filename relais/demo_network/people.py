"""Who takes part in the demonstration: the staff of each institution (users with the
demonstration's password) and the people referred (invented, with valid AVS numbers)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from relais.cases.domain.actors import Actor
from relais.institutions.registry import Kind, Role

from ..demo import avs

DEMO_PASSWORD = "demo-relais-2026"  # noqa: S105 - the demonstration's, printed on purpose


class Staff:
    """The demonstration's users: one or two per institution, one per kind of user."""

    orp: Actor = Actor("m.robert", "ORP-NE", Kind.AC, Role.case_manager)
    orp_lcf: Actor = Actor("j.monnier", "ORP-LCF", Kind.AC, Role.case_manager)
    oai: Actor = Actor("p.girard", "OAI-NE", Kind.AI, Role.case_manager)
    ssr: Actor = Actor("n.berset", "SSR-NE", Kind.SA, Role.case_manager)
    ssr_lcf: Actor = Actor("l.favre", "SSR-LCF", Kind.SA, Role.case_manager)
    ofij: Actor = Actor("s.jacot", "OFIJ-NE", Kind.FP, Role.case_manager)
    smig: Actor = Actor("a.haddad", "SMIG-NE", Kind.MIG, Role.case_manager)
    coord: Actor = Actor("c.perrin", "CII-NE", Kind.CII, Role.coordinator)
    steering: Actor = Actor("g.pilotage", "CII-NE", Kind.CII, Role.steering)
    admin: Actor = Actor("r.admin", "CII-NE", Kind.CII, Role.admin)

    def all(self) -> list[Actor]:
        """One per line of the users table, in the order the demonstration prints them."""
        return [self.orp, self.orp_lcf, self.oai, self.ssr, self.ssr_lcf, self.ofij,
                self.smig, self.coord, self.steering, self.admin]

    def of(self, code: str) -> Actor:
        """The case manager of an institution (the coordinator for CII-NE)."""
        for a in self.all():
            if a.institution == code and a.role in (Role.case_manager, Role.coordinator):
                return a
        raise KeyError(code)


STAFF = Staff()

_MEN = ["Daniel", "Luca", "Marco", "Kevin", "Yannick", "Julien", "Mehmet", "Ahmed", "Nicolas",
        "Pedro", "Samuel", "Florian", "Bruno", "Dragan", "Thierry", "Yonas", "Arben", "Cédric"]
_WOMEN = ["Sarah", "Laura", "Mélanie", "Fatima", "Ana", "Chloé", "Sandra", "Elif", "Nadia",
          "Céline", "Maria", "Aline", "Jessica", "Valérie", "Sofia", "Léa", "Amina", "Carla"]
_NAMES = ["Rochat", "Dubois", "Perret", "Jeanneret", "Robert", "Matthey", "Ducommun", "Vuille",
          "Huguenin", "Droz", "Monnier", "Favre", "Gerber", "Schneider", "Ferreira", "Rodrigues",
          "Krasniqi", "Yilmaz", "Tesfaye", "Bajrami", "Rossi", "Da Silva", "Mettler", "Brandt",
          "Sandoz", "Calame", "Perrin", "Girard", "Bühler", "Nussbaum", "Haddad", "Berisha"]
_TOWNS = [("2000", "Neuchâtel"), ("2300", "La Chaux-de-Fonds"), ("2400", "Le Locle"),
          ("2108", "Couvet"), ("2053", "Cernier"), ("2016", "Cortaillod"), ("2072", "Saint-Blaise")]
_STREETS = ["du Seyon", "de la Paix", "du Temple", "des Fahys", "Numa-Droz", "de la Gare"]
_ABROAD = ["PT", "IT", "XK", "TR", "ER", "FR", "ES", "SY", "AF", "MA"]


class People:
    """Invented people, each with a distinct AVS number: the same seed gives the same ones."""

    def __init__(self, rng: random.Random, first: int = 200_000_000) -> None:
        self.rng = rng
        self.next = first

    def person(self, age: int, today: date, *, foreign: float = 0.35) -> dict[str, Any]:
        r = self.rng
        self.next += r.randint(1, 97)
        male = r.random() < 0.55
        born = today - timedelta(days=365 * age + r.randint(0, 364))
        postcode, town = r.choice(_TOWNS)
        person: dict[str, Any] = {
            "avs": avs(self.next), "official_name": r.choice(_NAMES),
            "first_name": r.choice(_MEN if male else _WOMEN), "birth_date": born.isoformat(),
            "sex": "1" if male else "2",
            "nationality": r.choice(_ABROAD) if r.random() < foreign else "CH",
            "address": {"street": f"Rue {r.choice(_STREETS)} {r.randint(1, 120)}",
                        "postcode": postcode, "town": town}}
        if r.random() < 0.5:
            person["phone"] = f"079 {r.randint(100, 999)} {r.randint(10, 99)} {r.randint(10, 99)}"
        return person
