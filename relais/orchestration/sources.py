"""Institution adapters: how Relais fetches an institution's file on a person, so that the
person does not have to carry papers from one office to the next.

Three adapters, one small interface (``fetch``: the institution's files on this person, an
empty list when it has none):

- ``FolderSource``: documents the institution shares in a folder, ``ROOT/<CODE>/<AVS>/``;
- ``HttpSource``: the institution's own system, ``GET {url}/persons/{avs}/files``;
- ``DemoSource``: realistic files for the shipped institutions, reproducible per person.
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx

from relais.institutions.registry import Institution, Kind

# the data category of an institution's own file, unless the file says otherwise
CATEGORY_OF_KIND = {Kind.AC: "situation", Kind.AI: "medical", Kind.SA: "aide_sociale",
                    Kind.FP: "situation", Kind.MIG: "situation", Kind.CII: "situation"}


@dataclass(frozen=True)
class InstitutionFile:
    title: str
    category: str
    media_type: str
    content: bytes


class FileSource(Protocol):
    def fetch(self, institution: Institution, avs: str) -> list[InstitutionFile]: ...


class FolderSource:
    def __init__(self, root: Path) -> None:
        self.root = root

    def fetch(self, institution: Institution, avs: str) -> list[InstitutionFile]:
        folder = self.root / institution.code / avs
        if not folder.is_dir():
            return []
        found = []
        for path in sorted(p for p in folder.iterdir() if p.is_file()
                           and not p.name.startswith(".")):
            media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            found.append(InstitutionFile(path.stem.replace("_", " "),
                                         CATEGORY_OF_KIND[institution.kind], media,
                                         path.read_bytes()))
        return found


class HttpSource:
    """``{"files": [{"title", "category", "media_type", "content_base64"}]}``; 404: none."""

    def __init__(self, url: str, *, token: str | None = None, timeout: float = 15.0) -> None:
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout

    def fetch(self, institution: Institution, avs: str) -> list[InstitutionFile]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        r = httpx.get(f"{self.url}/persons/{avs}/files", headers=headers, timeout=self.timeout)
        if r.status_code == 404:
            return []
        r.raise_for_status()  # anything else is worth a retry
        return [InstitutionFile(str(f["title"]),
                                str(f.get("category") or CATEGORY_OF_KIND[institution.kind]),
                                str(f.get("media_type") or "application/octet-stream"),
                                base64.b64decode(f["content_base64"]))
                for f in r.json().get("files", [])]


class DemoSource:
    """What the shipped institutions would answer, drawn from the person's AVS number (the
    same person always gets the same file). Social services know about a third of people:
    for the others the gathering leaves a task, as in real life."""

    def fetch(self, institution: Institution, avs: str) -> list[InstitutionFile]:
        rnd = random.Random(int(hashlib.sha256(f"{institution.code}{avs}".encode())  # noqa: S311
                                .hexdigest()[:12], 16))
        maker = _DEMO.get(institution.kind)
        if maker is None or (institution.kind == Kind.SA and rnd.random() < 0.34):
            return []
        title, data = maker(rnd)
        body = json.dumps({"institution": institution.code, "avs": avs, **data},
                          ensure_ascii=False, indent=2).encode()
        return [InstitutionFile(title, CATEGORY_OF_KIND[institution.kind], "application/json",
                                body)]


def _ac(rnd: random.Random) -> tuple[str, dict[str, Any]]:
    start = date(2025, 1, 6) + timedelta(days=rnd.randrange(0, 500))
    return ("Dossier AC : inscription et droit aux indemnités", {
        "inscription_orp": start.isoformat(), "delai_cadre_jours": 520,
        "indemnites_restantes": rnd.randrange(20, 400),
        "gain_assure_chf": rnd.randrange(3800, 7200, 50),
        "mesures_mmt": rnd.sample(["cours de langue", "stage professionnel",
                                   "programme d'emploi temporaire", "bilan de compétences"], 2),
        "aptitude_au_placement": rnd.choice(["admise", "à examiner"])})


def _ai(rnd: random.Random) -> tuple[str, dict[str, Any]]:
    return ("Dossier AI : demande et instruction", {
        "demande_deposee": rnd.random() < 0.7,
        "detection_precoce": rnd.random() < 0.5,
        "incapacite_travail_pct": rnd.choice([50, 70, 100]),
        "mesures_intervention_precoce": rnd.choice([[], ["orientation professionnelle"],
                                                    ["adaptation du poste"]]),
        "rapport_medical": rnd.choice(["reçu", "demandé au médecin traitant"])})


def _sa(rnd: random.Random) -> tuple[str, dict[str, Any]]:
    return ("Dossier d'aide sociale : budget et suivi", {
        "aide_depuis": (date(2023, 1, 1) + timedelta(days=rnd.randrange(0, 900))).isoformat(),
        "forfait_entretien_chf": 1031, "loyer_chf": rnd.randrange(900, 1600, 10),
        "unite_economique": rnd.choice(["personne seule", "famille monoparentale",
                                        "couple avec enfants"]),
        "dettes_annoncees": rnd.random() < 0.4})


def _fp(rnd: random.Random) -> tuple[str, dict[str, Any]]:
    return ("Dossier CMFP : parcours de formation", {
        "scolarite_achevee": rnd.choice(["11H", "classe d'accueil"]),
        "stages": rnd.randrange(0, 4), "projet": rnd.choice(["AFP", "CFC", "à définir"])})


_DEMO = {Kind.AC: _ac, Kind.AI: _ai, Kind.SA: _sa, Kind.FP: _fp}


class Sources:
    """Which adapter answers for which institution: ``{"*": "demo", "OAI-NE": "http://…",
    "SSR-LCF": "folder:/srv/relais/ssr"}``."""

    def __init__(self, config: dict[str, str]) -> None:
        self.by_code = {code: source_from(spec) for code, spec in config.items()}

    def for_institution(self, code: str) -> FileSource | None:
        return self.by_code.get(code) or self.by_code.get("*")


def source_from(spec: str) -> FileSource:
    if spec == "demo":
        return DemoSource()
    if spec.startswith("folder:"):
        return FolderSource(Path(spec.removeprefix("folder:")))
    if spec.startswith(("http://", "https://")):
        return HttpSource(spec)
    raise ValueError(f"source de dossiers inconnue / unknown file source: {spec!r} "
                     "(demo, folder:PATH, http(s)://URL)")
