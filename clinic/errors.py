"""Typed domain errors. Each carries a message a person can act on; doors map them to exits or HTTP codes."""

from __future__ import annotations


class RotaError(Exception):
    """Base of every error a user may see. `str(error)` is the whole message."""

    exit_code = 1
    http_status = 400


class InvalidInput(RotaError):
    """The request or file is malformed; `problems` lists each one (path: what was expected)."""

    exit_code = 2
    http_status = 422

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class RuleViolation(RotaError):
    """A policy rule denies the change; `decision` is the rules layer's full answer, `problems`
    the fields of the request it concerns ('$.patient: why'), when a record was sent."""

    exit_code = 3
    http_status = 422

    def __init__(
        self, message: str, decision: object | None = None, problems: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.decision = decision
        self.problems = problems or []


class PermissionDenied(RotaError):
    exit_code = 3
    http_status = 403


class NotFound(RotaError):
    exit_code = 4
    http_status = 404


class BookingConflict(RotaError):
    """The time is taken (staff, patient or room) or the resource cannot host the session."""

    exit_code = 5
    http_status = 409


class LikelyDuplicate(RotaError):
    """The person to admit looks like a patient already in care (same name and date of birth,
    or same phone); `existing` describes that record so the caller can use it instead, or
    admit anyway by saying so."""

    exit_code = 5
    http_status = 409

    def __init__(self, message: str, existing: dict[str, object]) -> None:
        super().__init__(message)
        self.existing = existing


class NotAuthenticated(RotaError):
    """A credential that is missing, unknown, expired or revoked; `reason` says which (never
    whose it was)."""

    exit_code = 3
    http_status = 401

    def __init__(self, message: str, reason: str = "unknown") -> None:
        super().__init__(message)
        self.reason = reason


class TooManyAttempts(RotaError):
    """Too many failed sign-ins from one client: try again after `retry_after` seconds."""

    exit_code = 3
    http_status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
