"""API Gateway REST proxy requests in, proxy responses out; errors become answers here only."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from toggl_connection.core.errors import ConnectionFailure, InvalidBody, PayloadTooLarge
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


def header(event: dict[str, Any], name: str) -> str | None:
    """A request header in any letter case, from ``headers`` or ``multiValueHeaders``."""
    wanted = name.lower()
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == wanted and value is not None:
            return str(value)
    for key, values in (event.get("multiValueHeaders") or {}).items():
        if key.lower() == wanted and values:
            return str(values[0])
    return None


def raw_body(event: dict[str, Any], limit: int) -> bytes:
    """The exact bytes the sender posted, base64 decoded when API Gateway encoded them.

    Refuses anything over ``limit`` bytes before doing more work with it.
    """
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise InvalidBody("The request body must be text.")
    if event.get("isBase64Encoded"):
        # Four base64 characters carry three bytes: too long already means too large.
        if len(body) > (limit + 2) // 3 * 4 + 4:
            raise PayloadTooLarge(f"The body is larger than {limit} bytes.")
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidBody("The body is marked base64 but is not valid base64.") from exc
    else:
        if len(body) > limit:  # characters never outnumber UTF-8 bytes: a cheap first check
            raise PayloadTooLarge(f"The body is larger than {limit} bytes.")
        data = body.encode("utf-8", errors="surrogatepass")
    if len(data) > limit:
        raise PayloadTooLarge(f"The body is larger than {limit} bytes.")
    return data
