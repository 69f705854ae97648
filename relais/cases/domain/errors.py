"""What can go wrong when someone acts on a case. Each error has a stable code and a sentence.

The HTTP layer maps codes to status codes; the command line prints the sentence.
"""

from __future__ import annotations

from typing import Any


class CaseError(Exception):
    code = "case_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(CaseError):
    code = "not_found"


class NotAllowed(CaseError):
    """The actor's institution or role may not do this here and now."""
    code = "forbidden"


class EventRefused(CaseError):
    """The event does not apply in the current state, or its guard is false."""
    code = "event_not_allowed"


class MissingInput(CaseError):
    """A reason, an outcome or a field the transition requires is missing or wrong."""
    code = "invalid_input"


class StaleVersion(CaseError):
    """Someone else changed the case since the version the actor saw."""
    code = "stale_version"


class HandoffPending(CaseError):
    code = "handoff_pending"


class Conflict(CaseError):
    code = "conflict"


class DuplicateCase(Conflict):
    """The person has an open case on the route already: the referrer confirms, or asks to
    take part in it (or for a handoff) instead."""
    code = "duplicate_case"


class IdentityMismatch(Conflict):
    """A known AVS number given with another identity; the answer says nothing stored."""
    code = "identity_mismatch"
