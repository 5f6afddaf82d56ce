"""API Gateway REST proxy requests read: a header in any letter case, the exact body bytes, size
limited (the answers are made in ``responses``)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from toggl_connection.core.errors import InvalidBody, PayloadTooLarge


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
