"""Which data an institution may receive about a person, and on which legal basis.

Domain (../shared/domain.md): LACI art. 85f and LAI art. 68bis let AC and AI exchange data
with each other and with social assistance within CII, without consent but informing the
person afterwards. Sensitive data (health, social assistance) and everything that leaves
social services go out only with the person's free, informed, specific consent.

The rules below are that reading, kept here as data so the collaboration agreement can
change them; they are to be confirmed with the cantonal data-protection officer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from relais.institutions.registry import Institution, Kind

CATEGORIES = ("identite", "situation", "medical", "aide_sociale")
SENSITIVE = frozenset({"medical", "aide_sociale"})
OWN = "propre / own file"
CONSENT = "consentement / consent"
# the institution that discloses -> its legal basis, for non-sensitive data, towards these kinds
STATUTORY = {Kind.AC: ("LACI art. 85f", {Kind.AC, Kind.AI, Kind.SA}),
             Kind.AI: ("LAI art. 68bis", {Kind.AC, Kind.AI, Kind.SA})}


@dataclass(frozen=True)
class Consent:
    id: str
    recipients: tuple[str, ...]  # institution codes or kinds
    categories: tuple[str, ...]
    purpose: str
    valid_from: date
    valid_until: date | None = None
    revoked_on: date | None = None
    holder: str | None = None  # the institution that recorded it (received the form)

    def active(self, today: date) -> bool:
        return (self.valid_from <= today and (self.valid_until is None
                                               or today <= self.valid_until)
                and (self.revoked_on is None or today < self.revoked_on))

    def covers(self, recipient: Institution, category: str, today: date) -> bool:
        active = self.active(today)
        named = recipient.code in self.recipients or recipient.kind.value in self.recipients
        return active and named and category in self.categories


def legal_basis(recipient: Institution, holder: Institution, category: str,
                consents: Iterable[Consent], today: date) -> str | None:
    """The basis on which ``holder`` (the lead) may let ``recipient`` see ``category``;
    None when it may not."""
    if recipient.code == holder.code:
        return OWN
    statutory = STATUTORY.get(holder.kind)
    if category not in SENSITIVE and statutory and recipient.kind in statutory[1]:
        return statutory[0]
    if any(c.covers(recipient, category, today) for c in consents):
        return CONSENT
    return None


def informed_afterwards(basis: str) -> bool:
    """A statutory exchange without consent: the person must be told afterwards."""
    return basis not in (OWN, CONSENT)
