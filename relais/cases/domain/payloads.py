"""What each kind of event carries: one TypedDict per payload.

The rules draft them (mypy checks every key where an event is written) and ``evolve`` reads
them (it checks every key where an event is replayed). At rest a payload is the JSON object
stored with its event and hashed into the chain: the keys here are that stored format, so a
key is added as ``NotRequired`` and never renamed (older histories must replay unchanged).

Keys every payload may carry: ``actions`` (the effects the event asks for), ``partners``
(institutions that join the case by it) and ``lag_s`` (how late a timer fired).
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from .case import HandoffStatus


class Common(TypedDict, total=False):
    actions: list[str]
    partners: list[str]
    lag_s: float


class Entering(Common, total=False):
    """The entry into a state: its deadline, and for a final state, closure and outcome."""

    deadline_at: str | None
    fields: dict[str, Any]
    closed: bool
    outcome: str | None


class LeadChange(TypedDict):
    lead: str
    transfers: int
    handed_on: list[str]
    revolving_door: str | None


class Opened(Common):
    person: int
    route: str
    lead: str
    manager: str | None
    fields: dict[str, Any]
    deadline_at: str | None


class HandoffData(TypedDict):
    id: str
    sender: str
    receiver: str
    event: str
    to_state: str
    proposed_at: str
    due_at: str
    status: HandoffStatus
    reason: str | None
    outcome: str | None


class Proposed(Common):
    handoff: HandoffData
    fields: dict[str, Any]
    # the handoff a completed sign-off starts: the sign-off stays on the case while the
    # handoff waits, and after it is refused or expires (its signatures still hold)
    signed: NotRequired[bool]


class SignoffData(TypedDict):
    event: str
    transition: int
    names: list[str]
    signed: list[tuple[str, str]]  # (name, institution), lists once read back
    proposal: list[tuple[str, Any]]
    refusal: NotRequired[list[tuple[str, Any]]]  # by, institution, reason, at


class Signed(Common):
    signoff: SignoffData


class SignoffRefused(Common):
    """A signatory refuses the proposal: the sign-off as it stands after (signatures void)."""

    signoff: SignoffData


class SignoffWithdrawn(Common):
    """The author (or the coordination) takes the proposal back: no sign-off any more."""

    transition: int


class Accepted(Entering, LeadChange):
    handoff_id: str
    manager: str | None


class Refused(Common):
    handoff_id: str
    escalated: bool


class Withdrawn(Common):
    handoff_id: str


class Expired(Refused):
    pass


class Reminded(Common):
    deadline_at: str


class Escalated(Common):
    pass


class Settled(Common, total=False):
    deadline_at: str | None
    lead: str
    transfers: int
    handed_on: list[str]
    revolving_door: str | None
    # the step the coordination resumes (a transition from the current state leads there):
    # the case enters it, as by that transition
    step: str
    fields: dict[str, Any]


class FieldsUpdated(Common):
    fields: dict[str, Any]


class Migrated(Common):
    from_version: int
    mapping: dict[str, str]
    deadline_at: str | None


class ActionDone(Common):
    key: str
    action: str
    summary: dict[str, Any]
    documents: list[dict[str, Any]]
    tasks: list[dict[str, str]]


class DocumentAdded(Common):
    document: dict[str, Any]


class NoteAdded(Common):
    text: str
    category: str  # conventions.data_sharing.CATEGORIES: who may read the text


class PartnersJoined(Common):
    pass


class PartnersLeft(Common):
    """Institutions that stop taking part in the case (the coordination's call, with its
    reason on the event)."""

    left: list[str]


class ContactChanged(Common):
    contact: dict[str, Any]


class MeasureWaitlisted(Common):
    measure: str
    programme: str
    period: dict[str, str]
    wanted_start: str
    payer: str


class MeasureAssigned(Common):
    measure: str
    programme: str
    period: dict[str, str]
    start: str
    end: str
    payer: str
    status: str
    offered: bool
    unit_cost_chf: NotRequired[float | None]
    cost_chf: NotRequired[float | None]


class MeasureStarted(Common):
    measure: str
    programme: str
    on: str


class MeasureEnded(Common):
    measure: str
    programme: str
    status: str
    on: str


Payload = (Opened | Entering | Signed | SignoffRefused | SignoffWithdrawn | Proposed | Accepted
           | Refused | Withdrawn | Expired
           | Reminded | Escalated | Settled | FieldsUpdated | Migrated | ActionDone
           | DocumentAdded | PartnersJoined | PartnersLeft | ContactChanged | MeasureWaitlisted
           | MeasureAssigned | MeasureStarted | MeasureEnded)
