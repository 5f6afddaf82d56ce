"""The one reading of a whole number from outside: bodies, query strings, ids, headers, settings.

ASCII digits only. ``str.isdigit`` also says yes to "²" (which ``int`` then refuses) and to
"١٢" (which ``int`` reads as 12): every parser here once disagreed about such input.
"""

from __future__ import annotations

from typing import Any

# Longer than any id Toggl hands out (64-bit), short enough that int() stays cheap.
MAX_DIGITS = 20


def ascii_int(value: Any) -> int | None:
    """``value`` as a non-negative integer when it is one (an int, or a string of ASCII digits,
    surrounding spaces allowed); None for anything else (booleans, floats, signs, other scripts)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str):
        text = value.strip()
        if text and len(text) <= MAX_DIGITS and text.isascii() and text.isdigit():
            return int(text)
    return None
