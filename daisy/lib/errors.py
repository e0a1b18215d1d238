"""Domain errors: what a service raises when a request cannot be honoured.

Each carries a stable machine `code`, a `message` a receptionist understands, optional per-field
messages, and the HTTP status the API maps it to. Views show the message on the form."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "invalid"
    http_status = 422

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.fields = fields or {}
        self.extra = extra or {}

    def __str__(self) -> str:
        return self.message


class ValidationFailed(DomainError):
    code = "validation_error"


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class PermissionDenied(DomainError):
    code = "forbidden"
    http_status = 403


class SlotUnavailable(DomainError):
    """The time cannot be booked now (taken meanwhile, closed, or outside the booking rules)."""

    code = "slot_unavailable"
    http_status = 409

    def __init__(self, message: str, *, alternatives: list[Any] | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.alternatives = alternatives or []


class TooManyRequests(DomainError):
    """The caller asked for this too often in a short while; they may try again later."""

    code = "too_many_requests"
    http_status = 429


class InvalidTime(DomainError):
    code = "invalid_time"


class PolicyViolation(DomainError):
    """A rule of the clinic (cancellation window, status transition) forbids the action."""

    code = "policy_violation"
    http_status = 409


class Stale(DomainError):
    """The request was made on a view of something that has changed since (another desk moved,
    cancelled or checked in the appointment): nothing is done, and the caller is shown how it
    is now."""

    code = "changed_meanwhile"
    http_status = 409


class IdempotencyConflict(DomainError):
    """Same idempotency key with another request body (422), or the first is still running (409)."""

    code = "idempotency_key_reused"


class ClientContraindicated(DomainError):
    code = "contraindicated"
    http_status = 409


class ImportantDateConflict(DomainError):
    """The session's recovery window covers one of the client's important dates (issue 5). The
    booking goes ahead only when the caller confirms it explicitly."""

    code = "important_date_conflict"
    http_status = 409


class PrecareTooSoon(DomainError):
    """The time is too soon for some of the treatment's preparation steps (issue 12): the
    booking goes ahead only when the client confirms, step by step, that they already follow
    them; `extra` names the steps and the earliest time that leaves room for all of them."""

    code = "precare_too_soon"
    http_status = 409


class CourseUnavailable(DomainError):
    """No whole course can be booked as asked; `extra` holds the planner's problems and its
    nearest alternative."""

    code = "course_unavailable"
    http_status = 409


class ClientExists(DomainError):
    """The email address or phone number already belongs to a client (one person, one client
    record: issue 11). `fields["client"]` names that client for the staff who asked."""

    code = "client_exists"
    http_status = 409
