"""Toggl's webhook signature: ``X-Webhook-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>``."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

from toggl_connection.core.errors import SignatureInvalid

HEADER = "X-Webhook-Signature-256"
_FORMAT = re.compile(r"sha256=([0-9a-fA-F]{64})")


def sign(body: bytes, secret: str) -> str:
    """The header value Toggl sends for ``body`` signed with ``secret``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def parse(header_value: str | None) -> bytes:
    """The digest carried by the header, or a 401 for a missing or malformed one."""
    if not header_value:
        raise SignatureInvalid(f"The {HEADER} header is missing.")
    match = _FORMAT.fullmatch(header_value.strip())
    if not match:
        raise SignatureInvalid(f"The {HEADER} header must be 'sha256=' followed by 64 hex digits.")
    return bytes.fromhex(match.group(1))


def matches(body: bytes, digest: bytes, secrets: Iterable[str | None]) -> bool:
    """Constant-time comparison of ``digest`` with the body's HMAC under each secret."""
    found = False
    for secret in secrets:
        if secret:
            expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
            found |= hmac.compare_digest(expected, digest)
    return found
