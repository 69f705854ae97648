"""What the audit finds, in French and in English: one line a problem, naming what broke."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from relais.i18n import said

ZURICH = ZoneInfo("Europe/Zurich")

MESSAGES: dict[str, tuple[str, str]] = {
    # a case's history (chain, replay, side rows, documents)
    "numbering": ("cas {case} : événement {seq} : numéro {expected} attendu",
                  "case {case}: event {seq}: expected number {expected}"),
    "link": ("cas {case} : événement {seq} : le hachage précédent ne correspond pas",
             "case {case}: event {seq}: previous hash does not match"),
    "content": ("cas {case} : événement {seq} : le contenu ne correspond pas à son hachage",
                "case {case}: event {seq}: content does not match its hash"),
    "replay": ("cas {case} : la ligne diffère de son historique rejoué en : {fields}",
               "case {case}: the row differs from its replayed history in: {fields}"),
    "deadline_row": ("cas {case} : la ligne du délai d'étape ne correspond pas au cas",
                     "case {case}: the state deadline row disagrees with the case"),
    "handoff_row": ("cas {case} : la ligne du transfert en attente ne correspond pas au cas",
                    "case {case}: the pending handoff row disagrees with the case"),
    "doc_unnamed": ("cas {case} : le document {name!r} n'est nommé par aucun événement",
                    "case {case}: document {name!r} is named by no event"),
    "doc_differs": ("cas {case} : le document {name!r} diffère de ce que son événement a "
                    "enregistré", "case {case}: document {name!r} differs from what its event "
                                  "recorded"),
    # the ledger
    "ledger_gap": ("registre, chaîne {chain} : enregistrement {n} là où {expected} était "
                   "attendu (enregistrements supprimés)",
                   "ledger, chain {chain}: record {n} where {expected} was expected (records "
                   "deleted)"),
    "ledger_link": ("registre, chaîne {chain} : l'enregistrement {n} ne suit pas le précédent",
                    "ledger, chain {chain}: record {n} does not follow the previous one"),
    "ledger_hash": ("registre, chaîne {chain} : l'enregistrement {n} ne correspond pas à son "
                    "hachage", "ledger, chain {chain}: record {n} does not match its hash"),
    "row_deleted": ("{what} : supprimé(e), le registre l'a enregistré(e) (chaîne {chain}, "
                    "n° {n})", "{what}: deleted, the ledger recorded it (chain {chain}, "
                               "no. {n})"),
    "row_changed": ("{what} : modifié(e) depuis son enregistrement (chaîne {chain}, n° {n})",
                    "{what}: changed since it was recorded (chain {chain}, no. {n})"),
    "row_unrecorded": ("{what} : absent(e) du registre (écrit(e) en le contournant)",
                       "{what}: not in the ledger (written behind its back)"),
    # what each kind of row is called
    "person": ("personne {ref}", "person {ref}"),
    "case": ("cas {ref}", "case {ref}"),
    "case_document": ("cas {case} : document {ref}", "case {case}: document {ref}"),
    "consent": ("consentement {ref}", "consent {ref}"),
    "data_exchange": ("cas {case} : échange de données {ref}",
                      "case {case}: data exchange {ref}"),
    "case_read": ("cas {case} : lecture {ref} du journal des lectures",
                  "case {case}: read-log entry {ref}"),
    "audit_checkpoint": ("point de contrôle {ref}", "checkpoint {ref}"),
    # the checkpoints
    "no_key": ("{count} point(s) de contrôle, mais aucune clé d'audit (RELAIS_AUDIT_KEY ou "
               "var/audit_key) pour en vérifier la signature",
               "{count} checkpoint(s) but no audit key (RELAIS_AUDIT_KEY or var/audit_key) to "
               "check their signatures"),
    "cp_signature": ("point de contrôle {id} du {at} : signature invalide (falsifié ou modifié "
                     "sans la clé)", "checkpoint {id} of {at}: bad signature (forged or "
                                     "altered without the key)"),
    "cp_sequence": ("point de contrôle {id} du {at} : ne suit pas le point de contrôle "
                    "précédent (un point de contrôle manque)",
                    "checkpoint {id} of {at}: does not follow the previous checkpoint (one is "
                    "missing)"),
    "cp_ledger": ("registre, chaîne {chain} : l'enregistrement {n} n'est plus celui signé au "
                  "point de contrôle du {at} (registre réécrit ou tronqué depuis)",
                  "ledger, chain {chain}: record {n} is no longer the one signed at the "
                  "checkpoint of {at} (ledger rewritten or cut since)"),
    "cp_none": ("{cases} cas mais aucun point de contrôle, alors qu'une clé d'audit existe "
                "(supprimés ? `relais audit checkpoint` en prend un)",
                "{cases} cases but no checkpoint although an audit key exists (deleted? "
                "`relais audit checkpoint` takes one)"),
    "cp_heads": ("point de contrôle {id} du {at} : la liste des têtes de chaîne des cas a été "
                 "modifiée", "checkpoint {id} of {at}: its list of case heads was altered"),
    "cp_case_deleted": ("cas {case} : supprimé depuis le point de contrôle du {at}",
                        "case {case}: deleted since the checkpoint of {at}"),
    "cp_case_rewound": ("cas {case} : à la version {version}, en deçà de la version {signed} "
                        "signée au point de contrôle du {at} (historique reculé depuis)",
                        "case {case}: at version {version}, behind version {signed} signed at "
                        "the checkpoint of {at} (history rewound since)"),
    "cp_case_rewritten": ("cas {case} : l'événement {seq} n'est plus celui signé au point de "
                          "contrôle du {at} (historique réécrit depuis)",
                          "case {case}: event {seq} is no longer the one signed at the "
                          "checkpoint of {at} (history rewritten since)"),
    # notes, not problems
    "no_checkpoint": ("aucun point de contrôle encore : la suppression d'un cas entier ou un "
                      "historique réécrit avec ses hachages ne se voient qu'après "
                      "`relais audit checkpoint`",
                      "no checkpoint yet: a whole case deleted or a history rewritten with its "
                      "hashes shows only after `relais audit checkpoint`"),
    "since": ("dernier point de contrôle valide : {id} du {at}",
              "last valid checkpoint: {id} of {at}"),
}


def local(at: datetime) -> str:
    """A checkpoint's moment as people here read it: 05.12.2026 14:00, Neuchâtel's time."""
    return at.astimezone(ZURICH).strftime("%d.%m.%Y %H:%M")


@dataclass(frozen=True)
class Finding:
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def message(self, lang: str = "fr") -> str:
        fr, en = MESSAGES[self.code]
        values = {k: v.message(lang) if isinstance(v, Finding) else v
                  for k, v in self.params.items()}
        return said(lang, fr, en).format(**values)

    def __str__(self) -> str:
        return self.message("en")


def row_name(kind: str, ref: str, case_id: str | None) -> Finding:
    return Finding(kind, {"ref": ref, "case": case_id or "?"})
