"""Query-string parameters of the queries: Toggl's own names, checked and converted before any
Toggl request is spent on them. Values come as strings (HTTP) or as JSON values (direct)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from toggl_connection.core import text as characters
from toggl_connection.core.errors import ValidationFailed
from toggl_connection.core.integers import MAX_VALUE, ascii_int

Converter = Callable[[str, Any], Any]
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def integer(name: str, value: Any) -> int:
    number = ascii_int(value)
    if number is None:
        raise ValidationFailed(name, f"must be a whole number (ASCII digits, at most {MAX_VALUE})")
    if number <= 0:
        raise ValidationFailed(name, "must be greater than 0")
    return number


def boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValidationFailed(name, "must be true or false")


def active_filter(name: str, value: Any) -> str:
    """Toggl's ``active``: true, false or both."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.lower() in ("true", "false", "both"):
        return value.lower()
    raise ValidationFailed(name, "must be true, false or both")


class one_of:  # lower case: used as a converter function, like the others here
    """Takes one of a few strings; ``choices`` says which (the agent tools' schemas list them)."""

    def __init__(self, *choices: str) -> None:
        self.choices = choices

    def __call__(self, name: str, value: Any) -> str:
        if isinstance(value, str) and value in self.choices:
            return str(value)
        raise ValidationFailed(name, f"must be one of {', '.join(self.choices)}")


# A filter longer than this would only make Toggl's 414 (an HTML page) for the whole request.
MAX_TEXT = 1000


def text(name: str, value: Any) -> str:
    if isinstance(value, str) and value.strip():
        if len(value) > MAX_TEXT:
            raise ValidationFailed(name, f"is {len(value)} characters long; it takes at most {MAX_TEXT}")
        return str(value)
    raise ValidationFailed(name, "must be a non-empty string")


def ids(name: str, value: Any) -> list[int]:
    """A list of ids: ``[1, 2]`` or ``"1,2"``."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise ValidationFailed(name, "must be a comma-separated list of ids")
    return [integer(name, item.strip() if isinstance(item, str) else item) for item in items]


def day(name: str, value: Any) -> str:
    """``YYYY-MM-DD``: how the Reports API takes its dates."""
    if isinstance(value, str) and _DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise ValidationFailed(name, "must be a date (YYYY-MM-DD)")


def day_or_timestamp(name: str, value: Any) -> str:
    """``YYYY-MM-DD`` or an RFC 3339 timestamp with a time zone."""
    if isinstance(value, str):
        candidate = value.strip()
        if _DATE.fullmatch(candidate):
            try:
                date.fromisoformat(candidate)
                return candidate
            except ValueError:
                pass
        else:
            try:
                parsed = datetime.fromisoformat(candidate)
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is not None and "T" in candidate:
                return candidate
    raise ValidationFailed(name, "must be a date (YYYY-MM-DD) or an RFC 3339 timestamp with a time zone")


def unix_time(name: str, value: Any) -> int:
    return integer(name, value)


def moment(value: str) -> datetime:
    """A ``day_or_timestamp`` value as a comparable instant (a date is its midnight, UTC)."""
    if _DATE.fullmatch(value):
        return datetime.fromisoformat(value + "T00:00:00+00:00")
    return datetime.fromisoformat(value)


def convert(spec: Mapping[str, Converter], given: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(given) - set(spec))
    if unknown:
        takes = ", ".join(sorted(spec)) or "no parameters"
        raise ValidationFailed(unknown[0], f"unknown parameter (this query takes: {takes})")
    for name, value in given.items():
        if isinstance(value, str) and not characters.is_writable(value):
            raise ValidationFailed(name, characters.PROBLEM)
    return {name: spec[name](name, value) for name, value in given.items() if value is not None and value != ""}
