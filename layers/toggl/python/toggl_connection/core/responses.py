"""API Gateway REST proxy responses out; errors become answers here only (the request is read in
``request_reading``)."""

from __future__ import annotations

import json
from typing import Any

from toggl_connection.core.errors import ConnectionFailure
from toggl_connection.core.observability import logger

JSON_HEADERS = {"Content-Type": "application/json"}


def compact(document: Any) -> str:
    """A document as every JSON answer carries it: compact and ASCII only (anything else escaped),
    so its length in characters is its length in bytes on the wire."""
    return json.dumps(document, separators=(",", ":"))


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {**JSON_HEADERS, **(headers or {})},
        "body": compact(body),
        "isBase64Encoded": False,
    }


def error(failure: Exception) -> dict[str, Any]:
    """The contract's error answer. Unexpected exceptions are logged and hidden behind a 500."""
    if isinstance(failure, ConnectionFailure):
        extra = {"error": failure.code, "reason": failure.message}
        if failure.detail:
            extra["detail"] = failure.detail
        if failure.status >= 500:
            logger.error("request failed", extra=extra)
        else:
            logger.info("request refused", extra=extra)
        return json_response(failure.status, failure.body(), failure.headers())
    logger.exception("unexpected failure")
    return json_response(500, {"error": "internal_error", "message": "Unexpected error; the request can be retried."})
