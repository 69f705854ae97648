"""The tables. Schema changes go through Alembic migrations (``migrations/``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

# the moves into a state, as cases/store/steering_stays.py selects them
STEERING_MOVES = "kind IN ('case_opened', 'transitioned', 'handoff_accepted')"
# the changes of lead (cases/store/derived.py: LEAD_CHANGES)
LEAD_CHANGES = "kind IN ('handoff_accepted', 'escalation_settled')"


def _ts(**kw: Any) -> Any:
    return Field(sa_column=Column(DateTime(timezone=True), **kw))


class PersonRow(SQLModel, table=True):
    __tablename__ = "person"
    id: int | None = Field(default=None, primary_key=True)
    avs: str = Field(sa_column=Column(String(13), unique=True, nullable=False))
    official_name: str = Field(max_length=100)
    first_name: str = Field(max_length=100)
    birth_date: date
    sex: str | None = Field(default=None, max_length=1)
    nationality: str | None = Field(default=None, max_length=2)
    # how to reach the person: e-mail, mobile for SMS, postal address for printed letters
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=20)
    address: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # both names folded to plain ASCII words (cases.domain.search.name_key): the search
    search_key: str | None = Field(default=None, sa_column=Column(String(210), index=True,
                                                                  nullable=True))


class CaseContactRow(SQLModel, table=True):
    """How the case's institution reaches the person (letters, e-mail, SMS). Held per case:
    a referral by another institution never rewrites it; a change is an event."""

    __tablename__ = "case_contact"
    id: int | None = Field(default=None, primary_key=True)  # the ledger's key
    case_id: str = Field(foreign_key="case.id", unique=True, max_length=36)
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=20)
    address: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    changed_at: datetime = _ts(nullable=False)
    changed_by: str = Field(max_length=100)


class RouteVersionRow(SQLModel, table=True):
    __tablename__ = "route_version"
    route_id: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    digest: str = Field(max_length=64)
    source: str = Field(sa_column=Column(Text, nullable=False))
    published_at: datetime = _ts(nullable=False)
    published_by: str = Field(max_length=100)


class CaseRow(SQLModel, table=True):
    __tablename__ = "case"
    # the steering figures: cases closed in a period, open at its end, alive during it
    __table_args__ = (Index("ix_case_closed_at", "closed_at", postgresql_include=[
        "opened_at", "route_id", "state", "outcome", "id"]),
        # a route's cases alive at or after a moment, one range (PostgreSQL; migration 0009)
        Index("ix_case_route_alive", "route_id",
              text("coalesce(closed_at, 'infinity'::timestamptz)"),
              postgresql_include=["opened_at", "id", "closed_at"]).ddl_if(dialect="postgresql"))
    id: str = Field(primary_key=True, max_length=36)
    person_id: int = Field(foreign_key="person.id", index=True)
    route_id: str = Field(max_length=64)
    route_version: int
    state: str = Field(max_length=64)
    lead: str = Field(max_length=32, index=True)
    manager: str | None = Field(default=None, max_length=100)
    version: int
    opened_at: datetime = _ts(nullable=False)
    closed_at: datetime | None = _ts(nullable=True)
    outcome: str | None = Field(default=None, max_length=64)
    transfers: int = 0
    revolving_door: str | None = Field(default=None, max_length=200)
    escalation_level: int = 0
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # what the route's next steps need and no query filters on: signatures, past leads
    memory: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    last_hash: str = Field(max_length=64)


class CaseEventRow(SQLModel, table=True):
    """The append-only history. Never updated, never deleted."""

    __tablename__ = "case_event"
    __table_args__ = (
        # the steering figures (cases/steering): a period's events of some kinds, read from
        # the index alone on PostgreSQL; and, for a stay that began before the period, the
        # move that began it, looked up by case
        Index("ix_case_event_kind_at", "kind", "at", postgresql_include=[
            "case_id", "seq", "institution", "from_state", "to_state", "route_version"]),
        Index("ix_case_event_moves", "case_id", "seq",
              postgresql_include=["at", "from_state", "to_state"],
              postgresql_where=text(STEERING_MOVES), sqlite_where=text(STEERING_MOVES)),
        # the stays that ended in a period, and the period's changes of lead, each read from
        # a narrow index alone (the columns below, recorded at write time: derived.py); the
        # stays by state left first, so that they come out grouped by state, unsorted, and
        # the moves out of the entry checks (triage) are read alone
        Index("ix_case_event_stays", "from_state", "at", postgresql_include=[
            "entered_at", "case_id", "to_state", "route_version"],
              postgresql_where=text("entered_at IS NOT NULL"),
              sqlite_where=text("entered_at IS NOT NULL")),
        Index("ix_case_event_leads", "at", postgresql_include=[
            "case_id", "lead_from", "lead_to", "revolving_door"],
              postgresql_where=text(LEAD_CHANGES), sqlite_where=text(LEAD_CHANGES)),
    )
    case_id: str = Field(primary_key=True, foreign_key="case.id", max_length=36)
    seq: int = Field(primary_key=True)
    at: datetime = _ts(nullable=False)
    kind: str = Field(max_length=32)
    actor: str = Field(max_length=100)
    institution: str = Field(max_length=32)
    event: str | None = Field(default=None, max_length=64)
    from_state: str | None = Field(default=None, max_length=64)
    to_state: str | None = Field(default=None, max_length=64)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    route_version: int
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    # derived from the history at write time, outside the hash (cases/store/derived.py):
    # when the state a move leaves was entered; a change of lead's sender, new lead, flag
    entered_at: datetime | None = _ts(nullable=True)
    lead_from: str | None = Field(default=None, max_length=32)
    lead_to: str | None = Field(default=None, max_length=32)
    revolving_door: bool | None = None


class DeadlineRow(SQLModel, table=True):
    """One per open case and kind: ``state`` (the current step) or ``handoff`` (an answer)."""

    __tablename__ = "deadline"
    # the sweep pages by (due_at, case_id) among the open ones: one range per page
    __table_args__ = (Index("ix_deadline_status_due_case", "status", "due_at", "case_id"),)
    case_id: str = Field(primary_key=True, foreign_key="case.id", max_length=36)
    kind: str = Field(primary_key=True, max_length=16)
    due_at: datetime | None = _ts(nullable=True)
    status: str = Field(max_length=16)  # open | escalated | done
    level: int = 0


class HandoffRow(SQLModel, table=True):
    __tablename__ = "handoff"
    id: str = Field(primary_key=True, max_length=32)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=36)
    sender: str = Field(max_length=32)
    receiver: str = Field(max_length=32, index=True)
    event: str = Field(max_length=64)
    to_state: str = Field(max_length=64)
    proposed_at: datetime = _ts(nullable=False)
    due_at: datetime = _ts(nullable=False)
    status: str = Field(max_length=16)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    outcome: str | None = Field(default=None, max_length=64)


class OutboxRow(SQLModel, table=True):
    """Work to start, written in the same transaction as the event that causes it."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("idempotency_key"),
                      Index("ix_outbox_status_created", "status", "created_at"))
    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=120)
    case_id: str = Field(foreign_key="case.id", max_length=36)
    seq: int
    action: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16)  # pending | dispatched | done | failed
    created_at: datetime = _ts(nullable=False)
    attempts: int = 0
    # the dispatcher's bookkeeping: who holds the row until when, when it may run again
    claimed_by: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = _ts(nullable=True)
    not_before: datetime | None = _ts(nullable=True)
    done_at: datetime | None = _ts(nullable=True)
    last_error: str | None = Field(default=None, sa_column=Column(Text))


class UserRow(SQLModel, table=True):
    """A person or program that calls Relais: one institution, one role, a hashed token."""

    __tablename__ = "app_user"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(100), unique=True, nullable=False))
    institution: str = Field(max_length=32)
    role: str = Field(max_length=16)
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    # argon2 hash of the password for the pages; null: the user signs in with a token only
    password_hash: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    created_at: datetime = _ts(nullable=False)
    revoked_at: datetime | None = _ts(nullable=True)


class PageSessionRow(SQLModel, table=True):
    """A person signed in to the pages: the cookie holds a random id, this row its SHA-256.
    Deleting the row ends the session (sign-out, a new password, a revoked user)."""

    __tablename__ = "page_session"
    id_hash: str = Field(sa_column=Column(String(64), primary_key=True))
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="CASCADE"),
                                          nullable=False, index=True))
    created_at: datetime = _ts(nullable=False)
    last_seen_at: datetime = _ts(nullable=False)  # idle since
    expires_at: datetime = _ts(nullable=False, index=True)  # however busy: over at this time


class SignInTallyRow(SQLModel, table=True):
    """Failed sign-ins of a name from an address, or of an address (``cases.domain.throttle``).
    The key is a SHA-256: neither the name nor the address is kept."""

    __tablename__ = "sign_in_tally"
    key: str = Field(sa_column=Column(String(64), primary_key=True))
    failures: int = Field(sa_column=Column(Integer, nullable=False))
    since: datetime = _ts(nullable=False)
    next_at: datetime = _ts(nullable=False)
    clear_at: datetime = _ts(nullable=False, index=True)  # says nothing any more: may go


class CaseReadRow(SQLModel, table=True):
    """Every read of a case file: who, from which institution, when."""

    __tablename__ = "case_read"
    __table_args__ = (Index("ix_case_read_case_at", "case_id", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(max_length=36)
    user: str = Field(max_length=100)
    institution: str = Field(max_length=32)
    at: datetime = _ts(nullable=False)
    what: str = Field(max_length=16)  # case | history


class ConsentRow(SQLModel, table=True):
    """A person's consent to share data categories with named institutions for a purpose."""

    __tablename__ = "consent"
    id: str = Field(primary_key=True, max_length=32)
    person_id: int = Field(foreign_key="person.id", index=True)
    grantor: str = Field(max_length=200)  # the person, or their legal representative
    recipients: list[str] = Field(sa_column=Column(JSON, nullable=False))
    categories: list[str] = Field(sa_column=Column(JSON, nullable=False))
    purpose: str = Field(sa_column=Column(Text, nullable=False))
    valid_from: date
    valid_until: date | None = None
    revoked_on: date | None = None
    recorded_by: str = Field(max_length=100)
    recorded_at: datetime = _ts(nullable=False)
    # the case it was recorded for, by which institution (the one that received the form):
    # it opens that case's data to its recipients, nothing else (cases.sharing)
    case_id: str | None = Field(default=None, max_length=36, index=True)
    recorded_by_institution: str | None = Field(default=None, max_length=32)


class DataExchangeRow(SQLModel, table=True):
    """The first time an institution received a data category of a case, and on what basis."""

    __tablename__ = "data_exchange"
    __table_args__ = (UniqueConstraint("case_id", "recipient", "category", "legal_basis"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(max_length=36, index=True)
    recipient: str = Field(max_length=32)
    category: str = Field(max_length=32)
    legal_basis: str = Field(max_length=64)
    at: datetime = _ts(nullable=False)
    inform_person: bool = False  # a statutory exchange: the person is told afterwards
    informed_on: date | None = None


class ActionEffectRow(SQLModel, table=True):
    """The visible effect of an action, recorded once per idempotency key (a letter sent,
    a file gathered): a retried action looks here first and does not act twice."""

    __tablename__ = "action_effect"
    idempotency_key: str = Field(primary_key=True, max_length=120)
    action: str = Field(max_length=64)
    case_id: str = Field(max_length=36)
    at: datetime = _ts(nullable=False)
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class CaseDocumentRow(SQLModel, table=True):
    """A file gathered from an institution, a letter or a message, attached to a case.
    Written with the event that records it (``action_done`` or ``document_added``)."""

    __tablename__ = "case_document"
    __table_args__ = (UniqueConstraint("case_id", "key", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=36)
    seq: int  # the event that attached it
    key: str = Field(max_length=160)  # the action's idempotency key, or the upload's
    name: str = Field(max_length=200)
    kind: str = Field(max_length=16)  # file | letter | message
    institution: str = Field(max_length=32)  # where a file comes from, where a letter goes
    category: str = Field(max_length=32)  # data category: who may see it
    title: str = Field(max_length=300)
    media_type: str = Field(max_length=100)
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = _ts(nullable=False)


class CaseTaskRow(SQLModel, table=True):
    """Work waiting on a person at an institution, e.g. a file the gathering did not get."""

    __tablename__ = "case_task"
    __table_args__ = (UniqueConstraint("case_id", "key", "institution"),
                      Index("ix_case_task_institution_status", "institution", "status"))
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=36)
    key: str = Field(max_length=160)
    kind: str = Field(max_length=32)  # provide_file
    institution: str = Field(max_length=32)
    title: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=16)  # open | done
    created_at: datetime = _ts(nullable=False)
    done_at: datetime | None = _ts(nullable=True)
    done_seq: int | None = None


class ProgrammeRow(SQLModel, table=True):
    """A programme of the catalogue of measures (``conventions/catalogue.py``)."""

    __tablename__ = "programme"
    code: str = Field(primary_key=True, max_length=40)
    title: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    provider: str = Field(max_length=200)
    type: str = Field(max_length=32)  # occupation | socio_professionnel | professionnel
    payer: str = Field(max_length=32)  # institution code or kind
    unit_cost_chf: int  # per month
    duration_months: int
    routes: list[str] = Field(sa_column=Column(JSON, nullable=False))
    eligibility: str | None = Field(default=None, sa_column=Column(Text))
    updated_at: datetime = _ts(nullable=False)


class ProgrammePlaceRow(SQLModel, table=True):
    """A programme's places in one period."""

    __tablename__ = "programme_place"
    __table_args__ = (UniqueConstraint("programme", "period_start"),)
    id: int | None = Field(default=None, primary_key=True)
    programme: str = Field(foreign_key="programme.code", max_length=40)
    period_start: date
    period_end: date
    capacity: int


class CaseMeasureRow(SQLModel, table=True):
    """A measure of a case's integration plan: waiting for a place, or holding one (planned,
    active), or over (ended, cancelled, withdrawn). Written with the case's event about it."""

    __tablename__ = "case_measure"
    __table_args__ = (Index("ix_case_measure_place_status", "place_id", "status"),)
    id: str = Field(primary_key=True, max_length=32)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=36)
    programme: str = Field(foreign_key="programme.code", max_length=40)
    place_id: int = Field(foreign_key="programme_place.id")
    status: str = Field(max_length=16)
    queue_no: int  # order of arrival on the place's waiting list: first come, first served
    offered: bool = False  # a freed place offered from the waiting list
    payer: str = Field(max_length=32)
    starts_on: date  # for a waiting measure: the start asked for
    ends_on: date | None = None
    ended_on: date | None = None
    unit_cost_chf: int  # the programme's cost when the place was given
    since: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)


class LedgerRow(SQLModel, table=True):
    """The append-only record of the rows that decide who may read what and who read it
    (``cases/store/ledger.py``): each a content hash chained to the previous record of its
    chain. Never updated, never deleted; a change of a row is a new record for its key."""

    __tablename__ = "ledger"
    chain: int = Field(primary_key=True)  # one of ledger.CHAINS, chosen by the key
    n: int = Field(primary_key=True)  # 1, 2, 3... in its chain
    kind: str = Field(max_length=32)  # the table
    ref: str = Field(max_length=64)  # the row's primary key
    case_id: str | None = Field(default=None, max_length=36)  # to name it once it is gone
    digest: str = Field(max_length=64)  # SHA-256 of the row's canonical content
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditCheckpointRow(SQLModel, table=True):
    """Every chain head at a moment, signed with a key kept outside the database
    (``cases/store/checkpoints.py``)."""

    __tablename__ = "audit_checkpoint"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(nullable=False)
    body: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON, signed
    signature: str = Field(max_length=64)  # HMAC-SHA256 of body
    # each case's (version, last hash) at that moment, whose digest the body signs; kept on
    # the newest checkpoints only (checkpoints.KEEP_HEADS)
    heads: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a model, typed: SQLModel sets ``__table__`` where mypy cannot see it.
    The store reads and writes the tables with Core statements (generated once per dialect on
    the hot path, ``fastsql``); the models are the schema Alembic and the tests compare."""
    return SQLModel.metadata.tables[str(model.__tablename__)]


# the Core tables the store reads and writes, one name each
case_t = table_of(CaseRow)
checkpoint_t = table_of(AuditCheckpointRow)
consent_t = table_of(ConsentRow)
contact_t = table_of(CaseContactRow)
deadline_t = table_of(DeadlineRow)
document_t = table_of(CaseDocumentRow)
effect_t = table_of(ActionEffectRow)
event_t = table_of(CaseEventRow)
exchange_t = table_of(DataExchangeRow)
handoff_t = table_of(HandoffRow)
ledger_t = table_of(LedgerRow)
measure_t = table_of(CaseMeasureRow)
outbox_t = table_of(OutboxRow)
person_t = table_of(PersonRow)
place_t = table_of(ProgrammePlaceRow)
programme_t = table_of(ProgrammeRow)
read_t = table_of(CaseReadRow)
route_t = table_of(RouteVersionRow)
session_t = table_of(PageSessionRow)
tally_t = table_of(SignInTallyRow)
task_t = table_of(CaseTaskRow)
user_t = table_of(UserRow)
