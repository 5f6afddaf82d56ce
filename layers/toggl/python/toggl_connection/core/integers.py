"""The one reading of a whole number from outside: bodies, query strings, ids, headers, settings.

ASCII digits only. ``str.isdigit`` also says yes to "²" (which ``int`` then refuses) and to
"١٢" (which ``int`` reads as 12): every parser here once disagreed about such input.
"""

from __future__ import annotations

from typing import Any

# Toggl's ids are signed 64-bit integers: nothing larger is an id, from JSON or from digits.
MAX_VALUE = 2**63 - 1
MAX_DIGITS = len(str(MAX_VALUE))


def ascii_int(value: Any) -> int | None:
    """``value`` as an integer from 0 to ``MAX_VALUE`` when it is one (an int, or a string of
    ASCII digits, surrounding spaces allowed); None for anything else (booleans, floats, signs,
    other scripts, numbers too large for an id)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_VALUE else None
    if isinstance(value, str):
        text = value.strip()
        if text and len(text) <= MAX_DIGITS and text.isascii() and text.isdigit() and int(text) <= MAX_VALUE:
            return int(text)
    return None
