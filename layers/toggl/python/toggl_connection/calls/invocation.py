"""The three ways an action or query is invoked, told apart in one place: an API Gateway
request, an EventBridge event (a rule target) and a direct invocation (Step Functions, SDK)."""

from __future__ import annotations

import json
import math
from typing import Any, NamedTuple

from toggl_connection.core import request_reading, responses
from toggl_connection.core.errors import ConnectionFailure, ValidationFailed

MAX_BODY_BYTES = 1024 * 1024
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_FIELD = "idempotency_key"


class Invocation(NamedTuple):
    kind: str  # "http", "eventbridge" or "direct"
    payload: dict[str, Any]
    query: dict[str, str]
    idempotency_key: str | None


def idempotency_key(value: Any) -> str | None:
    """A caller's idempotency key (the header's, or the ``idempotency_key`` field's), checked."""
    if value is None:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
        raise ValidationFailed(IDEMPOTENCY_FIELD, "must be a non-empty string")
    if len(str(value)) > 256:
        raise ValidationFailed(IDEMPOTENCY_FIELD, "must be at most 256 characters")
    return str(value)


NON_FINITE = "must be a finite number: NaN, Infinity and -Infinity are not numbers JSON allows"


def non_finite(document: Any, root: str = "") -> str | None:
    """Where ``document`` (parsed JSON, any depth) holds a NaN or an infinite number, named as the
    errors name fields (``rate``, ``emails[0]``, ``params.limit``); None when it holds none. JSON
    has no such numbers, but Python's parser takes ``NaN``, ``Infinity`` and ``1e999``; such a body
    could not be sent on to Toggl."""
    stack: list[tuple[str, Any]] = [(root, document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return path or "body"
        if isinstance(value, dict):
            stack.extend((f"{path}.{key}" if path else str(key), item) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", item) for index, item in reversed(list(enumerate(value))))
    return None


def finite(document: Any, root: str = "") -> None:
    """Refuses (422, naming the field) a document that holds a number that is not finite."""
    where = non_finite(document, root)
    if where is not None:
        raise ValidationFailed(where, NON_FINITE)


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
        raw = request_reading.raw_body(event, MAX_BODY_BYTES)
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
        finite(payload)
        query = {k: v for k, v in (event.get("queryStringParameters") or {}).items() if v is not None}
        return Invocation("http", payload, query, idempotency_key(request_reading.header(event, IDEMPOTENCY_HEADER)))
    if kind == "eventbridge":
        detail = event["detail"]
        if not isinstance(detail, dict):
            raise ValidationFailed("detail", "must be a JSON object")
        finite(detail)
        detail = dict(detail)
        # EventBridge delivers at least once: its event id makes a redelivery harmless.
        key = idempotency_key(detail.pop(IDEMPOTENCY_FIELD, None)) or idempotency_key(event.get("id"))
        return Invocation("eventbridge", detail, {}, key)
    if isinstance(event, dict):
        finite(event)
        payload = dict(event)
        return Invocation("direct", payload, {}, idempotency_key(payload.pop(IDEMPOTENCY_FIELD, None)))
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
