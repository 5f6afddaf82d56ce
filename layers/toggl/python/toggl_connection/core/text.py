"""Characters no string may carry through the connection: a lone UTF-16 surrogate (JSON can
escape one, ``"\\ud800"``, but no UTF-8 encoder writes it: EventBridge, DynamoDB and the logs all
refuse it) and NUL. Input from callers that holds one is refused; what Toggl sends is repaired."""

from __future__ import annotations

import re

_UNWRITABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"
PROBLEM = "contains a character that is not allowed (NUL or a lone UTF-16 surrogate)"


def is_writable(text: str) -> bool:
    if text.isascii():
        return "\x00" not in text
    return _UNWRITABLE.search(text) is None


def writable(text: str) -> str:
    """``text`` with lone surrogates and NUL characters replaced by U+FFFD."""
    return text if is_writable(text) else _UNWRITABLE.sub(REPLACEMENT, text)
