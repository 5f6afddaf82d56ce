"""Every failure the connection reports, each with its HTTP status and a stable error code.

Handlers never build error answers themselves: ``responses.error`` turns any of these into the
contract's ``{"error": "<code>", "message": "<what to do>"}`` body in one place.
"""

from __future__ import annotations


class ConnectionFailure(Exception):
    """Base of every expected failure. ``message`` is safe to show to the caller."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
