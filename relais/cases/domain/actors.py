"""Who acts: a user of an institution with a role; and the system itself (deadline sweeps)."""

from __future__ import annotations

from dataclasses import dataclass

from relais.institutions.registry import Kind, Role

SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    user: str
    institution: str  # institution code
    kind: Kind
    role: Role

    @property
    def is_coordination(self) -> bool:
        return self.role == Role.coordinator or self.kind == Kind.CII

    @property
    def is_system(self) -> bool:
        return self.user == SYSTEM


def system_actor(coordination_code: str) -> Actor:
    return Actor(SYSTEM, coordination_code, Kind.CII, Role.coordinator)
