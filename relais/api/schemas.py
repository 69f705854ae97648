"""What the API takes and gives. Inputs forbid unknown keys and bound every size."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from relais.cases.domain.person import NOT_A_NAME, is_a_name


def _a_name(value: str) -> str:
    """A person's name as ``person_from`` takes one: letters, nothing invisible."""
    if not is_a_name(value):
        raise ValueError(NOT_A_NAME)
    return value

Text = Annotated[str, StringConstraints(max_length=2000)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Fields = Annotated[dict[Annotated[str, StringConstraints(max_length=64)], Any],
                   Field(max_length=50)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AddressIn(Strict):
    street: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    postcode: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    town: Annotated[str, StringConstraints(min_length=1, max_length=100)]


class PersonIn(Strict):
    avs: Annotated[str, StringConstraints(max_length=20)]
    official_name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    first_name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    birth_date: date
    sex: Annotated[str, StringConstraints(pattern=r"^[123]$")] | None = None
    nationality: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    # how Relais reaches the person: e-mail, else SMS, else a printed letter
    email: Annotated[str, StringConstraints(max_length=200)] | None = None
    phone: Annotated[str, StringConstraints(max_length=30)] | None = None
    address: AddressIn | None = None


class ContactIn(Strict):
    """How the case's institution reaches the person from now on."""
    email: Annotated[str, StringConstraints(max_length=200)] | None = None
    phone: Annotated[str, StringConstraints(max_length=30)] | None = None
    address: AddressIn | None = None


class ContactChange(Strict):
    contact: ContactIn
    reason: Text | None = None  # required: why the contact changes (a person's own word...)


class PartnersIn(Strict):
    institutions: Annotated[list[Annotated[str, StringConstraints(max_length=32)]],
                            Field(min_length=1, max_length=10)]
    reason: Text


class PartnerLeave(Strict):
    reason: Text


class PartnerOut(BaseModel):
    """An institution taking part in a case, and the event that brought it in."""

    institution: str
    name: dict[str, str]
    kind: str
    role: str  # lead | partner | past_lead
    since: datetime
    by_kind: str  # the event kind that brought it in ("" if not readable)
    by_event: str | None
    by_actor: str
    by_institution: str


class ReferralConsentIn(Strict):
    """The person's consent to the CII network, recorded with the referral (docs/api.md):
    by default for the route's institutions and the coordination, identity and situation,
    for the coordination of this case."""
    grantor: Annotated[str, StringConstraints(min_length=1, max_length=200),
                       AfterValidator(_a_name)]
    categories: Annotated[list[Annotated[str, StringConstraints(max_length=32)]],
                          Field(min_length=1, max_length=10)] | None = None
    recipients: Annotated[list[Annotated[str, StringConstraints(max_length=32)]],
                          Field(min_length=1, max_length=20)] | None = None
    purpose: Annotated[str, StringConstraints(min_length=1, max_length=2000)] | None = None
    valid_until: date | None = None


class CaseCreate(Strict):
    route: Name
    person: PersonIn
    fields: Fields = Field(default_factory=dict)
    reason: Text | None = None
    consent: ReferralConsentIn | None = None  # an addition to the spec (docs/api.md)
    confirm_duplicate: bool = False  # an addition: open a second case for the person anyway


class EventIn(Strict):
    event: Name
    reason: Text | None = None
    outcome: Name | None = None
    fields: Fields = Field(default_factory=dict)
    lead: Annotated[str, StringConstraints(max_length=32)] | None = None


class RefuseIn(Strict):
    reason: Text | None = None


class HandoffOut(BaseModel):
    id: str
    to: str
    deadline: datetime


class SignatureOut(BaseModel):
    name: str  # what signs, as the route names it (a kind or a code)
    institution: str  # who signed for it


class ProposerOut(BaseModel):
    user: str | None  # null for a proposal recorded before authors were
    institution: str | None


class ProposalOut(BaseModel):
    lead: str | None  # the institution the proposal makes lead (null: the lead stays)
    reason: str | None  # null too when the caller may not read the case's situation
    outcome: str | None
    fields: dict[str, Any]  # the fields the caller may see


class RefusalOut(BaseModel):
    user: str
    institution: str
    reason: str | None
    at: datetime | None


class SignoffOut(BaseModel):
    event: str
    signed: list[str]
    awaited: list[str]
    # added: the proposal each signatory signs, and what the caller may do with it
    status: str = "open"  # open | refused (back with its author) | complete (all signed)
    title: dict[str, str] = {}
    proposal: ProposalOut | None = None
    proposed_by: ProposerOut | None = None
    proposed_at: datetime | None = None
    signatures: list[SignatureOut] = []
    refusal: RefusalOut | None = None
    allowed: list[str] = []  # approve | refuse | propose | withdraw


class SignoffAnswerIn(Strict):
    reason: Text | None = None  # required to refuse


class SettleIn(Strict):
    reason: Text
    lead: Annotated[str, StringConstraints(max_length=32)] | None = None
    step: Annotated[str, StringConstraints(max_length=64)] | None = None


class CaseOut(BaseModel):
    id: str
    route: str
    route_version: int
    state: str
    state_title: dict[str, str]
    lead: str
    manager: str | None
    version: int
    opened_at: datetime
    deadline: datetime | None
    deadline_status: str
    escalated: bool
    allowed_events: list[str]
    pending_handoff: HandoffOut | None
    signoff: SignoffOut | None
    transfers: int
    revolving_door: str | None
    closed: bool
    outcome: str | None
    person: dict[str, Any] | None  # null when the caller has no basis to see who it is
    fields: dict[str, Any]
    legal_basis: dict[str, str]  # data category shown -> on which basis
    withheld: list[str]  # data categories the caller may not see
    partners: list[str] = []  # institutions recorded as taking part, besides the lead


class CaseList(BaseModel):
    items: list[CaseOut]
    next: str | None


class NoteShown(BaseModel):
    """A note's category, and its text when the reader may read it (else null)."""
    category: str
    text: str | None


class HistoryItem(BaseModel):
    seq: int
    at: datetime
    actor: str
    institution: str
    kind: str
    event: str | None
    from_: str | None = Field(serialization_alias="from")
    to: str | None
    reason: str | None
    note: NoteShown | None = None  # a note_added event's


class RouteVersions(BaseModel):
    id: str
    versions: list[int]
    title: dict[str, str]


class ProblemOut(BaseModel):
    line: int
    path: str
    message: str


class Validation(BaseModel):
    valid: bool
    error: str | None = None  # with valid: false, as every 4xx body
    message: str | None = None
    errors: list[ProblemOut] | None = None


class DeadlineOut(BaseModel):
    case: str
    kind: str
    due_at: datetime
    state: str
    lead: str


class ConsentIn(Strict):
    grantor: Annotated[str, StringConstraints(min_length=1, max_length=200),
                       AfterValidator(_a_name)]
    recipients: Annotated[list[Annotated[str, StringConstraints(max_length=32)]],
                          Field(min_length=1, max_length=20)]
    categories: Annotated[list[Annotated[str, StringConstraints(max_length=32)]],
                          Field(min_length=1, max_length=10)]
    purpose: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    valid_until: date | None = None


class ConsentOut(BaseModel):
    id: str
    recorded_by: str | None  # the institution that received the person's form
    grantor: str | None  # None: withheld from the caller (cases.access)
    recipients: list[str]
    categories: list[str]
    purpose: str | None
    valid_from: date
    valid_until: date | None
    revoked_on: date | None


class ExchangeOut(BaseModel):
    id: int
    recipient: str
    category: str
    legal_basis: str
    at: datetime
    inform_person: bool
    informed_on: date | None


class InformedIn(Strict):
    on: date


class ErrorOut(BaseModel):
    error: str
    message: str


class DocumentOut(BaseModel):
    id: int
    name: str
    kind: str  # file | letter | message
    institution: str  # where a file comes from; where a letter or message goes
    category: str
    title: str
    media_type: str
    size: int
    sha256: str
    created_at: datetime
    legal_basis: str  # why the caller may see it


class DocumentList(BaseModel):
    items: list[DocumentOut]
    withheld: int  # documents of the case the caller has no basis to see


class DocumentIn(Strict):
    """An institution's own file on the case (e.g. the one the gathering could not get)."""
    title: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    category: Literal["identite", "situation", "medical", "aide_sociale"]
    media_type: Annotated[str, StringConstraints(
        pattern=r"^[a-z]+/[a-z0-9.+-]+(; ?charset=[a-zA-Z0-9-]+)?$", max_length=100)]
    content_base64: Annotated[str, StringConstraints(min_length=1, max_length=1_000_000)]


class TaskOut(BaseModel):
    id: int
    case_id: str
    kind: str
    institution: str
    title: str
    status: str
    created_at: datetime
    done_at: datetime | None


# -- the catalogue of measures --------------------------------------------------------------

Code = Annotated[str, StringConstraints(min_length=1, max_length=40)]


class PeriodOut(BaseModel):
    from_: date = Field(serialization_alias="from")
    to: date


class PlacesOut(BaseModel):
    period: PeriodOut
    capacity: int


class ProgrammeOut(BaseModel):
    code: str
    title: dict[str, str]
    provider: str
    type: str  # occupation | socio_professionnel | professionnel
    payer: str  # institution code or kind, unless the plan names another
    unit_cost_chf: int  # per month
    duration_months: int
    routes: list[str]
    eligibility: str | None  # a guard over the case's fields; null: every case of the routes
    places: list[PlacesOut]


class OccupancyOut(BaseModel):
    programme: str
    period: PeriodOut
    capacity: int
    occupied: int  # places held: planned or active
    free: int
    waiting: int
    assignments: int  # not cancelled, in the period
    cost_by_payer: dict[str, int]  # CHF committed


class MeasureIn(Strict):
    programme: Code
    start: date | None = None  # today by default
    end: date | None = None  # the programme's duration, within the period, by default
    payer: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    reason: Text | None = None


class MeasureEndIn(Strict):
    reason: Text | None = None
    on: date | None = None  # today by default


class MeasureStartIn(Strict):
    reason: Text | None = None


class MeasureOut(BaseModel):
    id: str
    case: str
    programme: str
    title: dict[str, str]
    type: str
    provider: str
    period: PeriodOut
    status: str  # waiting | planned | active | ended | cancelled | withdrawn
    offered: bool  # a freed place offered from the waiting list: the lead starts or cancels
    position: int | None  # on the waiting list, 1 = next
    start: date  # asked for, while waiting
    end: date | None
    ended_on: date | None
    payer: str
    unit_cost_chf: int
    cost_chf: int


class PlanOut(BaseModel):
    case: str
    measures: list[MeasureOut]
    cost_by_payer: dict[str, int]
    withheld: bool = False  # the plan is the person's situation, which the caller may not see
