"""The three ways an action or query is invoked, told apart in one place: an API Gateway
request, an EventBridge event (a rule target) and a direct invocation (Step Functions, SDK)."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from toggl_connection.core import responses
from toggl_connection.core.errors import ConnectionFailure, ValidationFailed

MAX_BODY_BYTES = 1024 * 1024
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_FIELD = "idempotency_key"


class Invocation(NamedTuple):
    kind: str  # "http", "eventbridge" or "direct"
    payload: dict[str, Any]
    query: dict[str, str]
    idempotency_key: str | None


def _key(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
        raise ValidationFailed(IDEMPOTENCY_FIELD, "must be a non-empty string")
    if len(str(value)) > 256:
        raise ValidationFailed(IDEMPOTENCY_FIELD, "must be at most 256 characters")
    return str(value)


def caller_of(event: Any) -> str:
    """Who is asking, for the logs: the IAM identity API Gateway verified for an HTTP request,
    the event's ``source`` for an EventBridge rule target, else ``direct``."""
    kind = kind_of(event)
    if kind == "http":
        identity = (event.get("requestContext") or {}).get("identity") or {}
        return str(identity.get("userArn") or identity.get("caller") or "unknown")
    if kind == "eventbridge":
        return f"eventbridge:{event.get('source')}"
    return "direct"


def kind_of(event: Any) -> str:
    if isinstance(event, dict) and "httpMethod" in event and "requestContext" in event:
        return "http"
    if isinstance(event, dict) and "detail-type" in event and "detail" in event and "source" in event:
        return "eventbridge"
    return "direct"


def read(event: Any) -> Invocation:
    """What was asked, however it was asked."""
    kind = kind_of(event)
    if kind == "http":
        raw = responses.raw_body(event, MAX_BODY_BYTES)
        payload: Any = {}
        if raw.strip():
            try:
                payload = json.loads(raw)
            except ValueError as exc:
                raise ValidationFailed("body", "is not valid JSON") from exc
            except RecursionError as exc:  # no input of an action nests deeply: refused, whatever its depth
                raise ValidationFailed("body", "is nested too deeply") from exc
        if not isinstance(payload, dict):
            raise ValidationFailed("body", "must be a JSON object")
        query = {k: v for k, v in (event.get("queryStringParameters") or {}).items() if v is not None}
        return Invocation("http", payload, query, _key(responses.header(event, IDEMPOTENCY_HEADER)))
    if kind == "eventbridge":
        detail = event["detail"]
        if not isinstance(detail, dict):
            raise ValidationFailed("detail", "must be a JSON object")
        detail = dict(detail)
        # EventBridge delivers at least once: its event id makes a redelivery harmless.
        key = _key(detail.pop(IDEMPOTENCY_FIELD, None)) or _key(event.get("id"))
        return Invocation("eventbridge", detail, {}, key)
    if isinstance(event, dict):
        payload = dict(event)
        return Invocation("direct", payload, {}, _key(payload.pop(IDEMPOTENCY_FIELD, None)))
    raise ValidationFailed("event", "must be a JSON object")


def answer(kind: str, status: int, body: Any, headers: dict[str, str] | None = None) -> Any:
    """An API Gateway response for HTTP; the body itself for the other kinds."""
    if kind == "http":
        return responses.json_response(status, body, headers)
    return body


def fail(kind: str, failure: Exception) -> Any:
    """An error answer for HTTP. Direct and EventBridge callers get the exception itself, so
    Step Functions can match its type (``TogglQuotaExhausted``, ...) in Retry and Catch."""
    if kind == "http":
        return responses.error(failure)
    if isinstance(failure, ConnectionFailure):
        responses.error(failure)  # logged as the HTTP path logs it
    raise failure
