"""Every failure the connection reports, each with its HTTP status and a stable error code.

Handlers never build error answers themselves: ``responses.error`` turns any of these into the
contract's ``{"error": "<code>", "message": "<what to do>"}`` body in one place.
"""

from __future__ import annotations

from typing import Any


class ConnectionFailure(Exception):
    """Base of every expected failure. ``message`` is safe to show to the caller, including one
    who is not authenticated (no ARN, no secret id); ``detail`` is for the logs only."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def headers(self) -> dict[str, str]:
        """Extra response headers (``Retry-After`` for quota)."""
        return {}

    def details(self) -> dict[str, Any]:
        """Extra fields of the error body, beside ``error`` and ``message``."""
        return {}

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.details()}


class PayloadTooLarge(ConnectionFailure):
    status = 413
    code = "payload_too_large"


class SignatureInvalid(ConnectionFailure):
    status = 401
    code = "invalid_signature"


class InvalidBody(ConnectionFailure):
    status = 400
    code = "invalid_body"


class ConfigurationError(ConnectionFailure):
    status = 500
    code = "misconfigured"


class SecretUnavailable(ConnectionFailure):
    """A secret could not be read; Toggl should deliver again later."""

    status = 503
    code = "secret_unavailable"


class PublishFailed(ConnectionFailure):
    """EventBridge did not take the event: answer 5xx so that Toggl delivers it again."""

    status = 503
    code = "publish_failed"


class DeliveryInProgress(ConnectionFailure):
    """The same event is being published by a concurrent delivery right now."""

    status = 503
    code = "delivery_in_progress"


class DedupeUnavailable(ConnectionFailure):
    status = 503
    code = "dedupe_unavailable"


def sentence(field: str, problem: str) -> str:
    """``field`` and its ``problem`` as one whole sentence, the field first: ``name is required.``,
    ``colour is an unknown field (...).``, ``emails is not an e-mail address: 'x'.``"""
    problem = problem.strip()
    if problem.startswith("unknown "):
        problem = f"is an {problem}"
    elif problem.startswith("not "):
        problem = f"is {problem}"
    text = f"{field} {problem}"
    return text if text.endswith((".", "!", "?")) else f"{text}."


class ValidationFailed(ConnectionFailure):
    """The caller's input is not what the action or query takes: which field, and why."""

    status = 422
    code = "validation_failed"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(sentence(field, problem))
        self.field = field

    def details(self) -> dict[str, Any]:
        return {"field": self.field}


class IdempotencyKeyReused(ConnectionFailure):
    status = 422
    code = "idempotency_key_reused"


class AdminInvitationNotAllowed(ConnectionFailure):
    """``"admin": true`` in an invitation, on a stack that does not allow it."""

    status = 403
    code = "admin_invitation_not_allowed"


class WorkspaceNotAllowed(ConnectionFailure):
    """A workspace outside the stack's ``AllowedWorkspaceIds``."""

    status = 403
    code = "workspace_not_allowed"


class TogglFailure(ConnectionFailure):
    """Toggl answered with an error (or not at all). Carries Toggl's request id for support."""

    def __init__(self, message: str, request_id: str | None = None, toggl_status: int | None = None) -> None:
        super().__init__(message, None)
        self.request_id = request_id
        self.toggl_status = toggl_status
        # This request, or an earlier attempt of it in the same call, may have been carried out.
        self.after_unknown_outcome = False

    def details(self) -> dict[str, Any]:
        return {"toggl_request_id": self.request_id} if self.request_id else {}


class TogglInvalidRequest(TogglFailure):
    status = 400
    code = "invalid_request"


class TogglAlreadyExists(TogglFailure):
    status = 409
    code = "already_exists"


class TogglNotFound(TogglFailure):
    status = 404
    code = "not_found"


class TogglTokenRejected(TogglFailure):
    status = 502
    code = "token_rejected"


class TogglPlanRequired(TogglFailure):
    status = 402
    code = "plan_required"


class TogglQuotaExhausted(TogglFailure):
    """Toggl's hourly quota is spent (402 with quota headers) or it keeps answering 429."""

    status = 429
    code = "quota_exhausted"

    def __init__(
        self, message: str, retry_after: int, request_id: str | None = None, toggl_status: int | None = None
    ) -> None:
        super().__init__(message, request_id, toggl_status)
        self.retry_after = max(1, int(retry_after))

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}

    def details(self) -> dict[str, Any]:
        return {**super().details(), "retry_after": self.retry_after}


class TogglUnavailable(TogglFailure):
    status = 503
    code = "toggl_unavailable"


class TogglOutcomeUnknown(TogglFailure):
    """Toggl failed after the request may have taken effect; repeating it could do it twice."""

    status = 502
    code = "outcome_unknown"


class NoRunningTimeEntry(TogglFailure):
    """A stop without a time entry id while the token's user has no timer running."""

    status = 404
    code = "no_running_time_entry"


class TogglRequestTooLong(TogglFailure):
    """Toggl's 414: the request (its query string) is longer than Toggl takes."""

    status = 422
    code = "validation_failed"
