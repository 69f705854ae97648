"""What the action flows work with: the case services, the channels, the file sources and
the effects ledger. Flows take plain parameters (what Prefect records of each run); the
process that runs them installs one Runtime first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cases.queries import CaseQueries
from cases.services import CaseServices
from cases.store.outbox import Effects

from .channels import Mailer, SmsGateway
from .sources import Sources


@dataclass
class Runtime:
    services: CaseServices
    mailer: Mailer
    sms: SmsGateway
    sources: Sources

    @property
    def effects(self) -> Effects:
        return Effects(self.services.engine)

    @property
    def queries(self) -> CaseQueries:
        return CaseQueries(self.services)

    def once(self, key: str, *, action: str, case_id: str,
             act: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Do a visible effect (send a mail, an SMS) unless the ledger says it is done.
        A crash between the act and its record repeats only that one effect, with the same
        key (the same Message-ID, the same SMS file)."""
        done = self.effects.get(key)
        if done is not None:
            return done
        result = act()
        self.effects.record(key, action=action, case_id=case_id, result=result,
                            now=self.services.clock())
        return self.effects.get(key) or result


_current: Runtime | None = None


def install(runtime: Runtime | None) -> None:
    global _current
    _current = runtime


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("no orchestration runtime installed (orchestration.runtime.install)")
    return _current
