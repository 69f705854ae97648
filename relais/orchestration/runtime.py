"""What the action flows work with: the case services and the outbox's, the channels and
the file sources. Flows take plain parameters (what Prefect records of each run); the
process that runs them installs one Runtime first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from relais.cases.access import AccessPolicy
from relais.cases.outbox_services import OutboxServices
from relais.cases.queries import CaseQueries
from relais.cases.services import CaseServices
from relais.cases.sharing import Sharing

from .channels import Mailer, SmsGateway
from .sources import Sources


@dataclass
class Runtime:
    services: CaseServices
    mailer: Mailer
    sms: SmsGateway
    sources: Sources
    outbox: OutboxServices = field(init=False)
    access: AccessPolicy = field(init=False)  # what a letter may say to its recipient

    def __post_init__(self) -> None:
        self.outbox = OutboxServices(self.services)
        self.access = AccessPolicy(CaseQueries(self.services), Sharing(self.services))

    def once(self, key: str, *, action: str, case_id: str,
             act: Callable[[], dict[str, Any]],
             done: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
        """Do a visible effect (send a mail, an SMS) unless it is on record: in ``done``,
        what the action found on record when it started (``OutboxServices.effects_done``),
        else looked up. The effect is recorded as soon as it is done, so that a crash between
        the act and its record repeats only that one effect, with the same key (the same
        Message-ID, the same SMS file)."""
        known = done if done is not None else self.outbox.effects_done(key, None)
        if key in known:
            return known[key]
        return self.outbox.record_effect(key, action=action, case_id=case_id, result=act())


_current: Runtime | None = None


def install(runtime: Runtime | None) -> None:
    global _current
    _current = runtime


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("no orchestration runtime installed (orchestration.runtime.install)")
    return _current
