"""What every write shares: the fields a request gave, its outcome, and how the object a request
made is recognised when its answer was lost (every field the request set, active, and changed no
earlier than the first attempt)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from toggl_connection.bus.event_format import change_moment

# Toggl's clock and ours may differ: what Toggl dates this much before the first attempt counts.
CLOCK_SKEW_SECONDS = 300


class Outcome(NamedTuple):
    status: int  # 201 created, 200 already there (or changed)
    body: Any


def given(item: Any, *names: str) -> dict[str, Any]:
    """The named fields that were given (Toggl applies its own defaults to the rest)."""
    values = item._asdict()
    return {name: values[name] for name in names if values.get(name) is not None}


def first_match(candidates: Any, wanted: dict[str, Any], since: float | None, active: Callable[[Any], bool]) -> Any:
    """The first candidate that is what the request asked for: every field it set, active, and
    (``since``) last changed no earlier than the request's first attempt. Toggl gives these
    objects no creation time; their ``at`` is never earlier than it."""
    for candidate in candidates or []:
        if not isinstance(candidate, dict) or not active(candidate):
            continue
        if any(candidate.get(name) != value for name, value in wanted.items()):
            continue
        if since is not None and not changed_since(candidate, since):
            continue
        return candidate
    return None


def changed_since(candidate: dict[str, Any], since: float) -> bool:
    """Whether Toggl dates the object's last change no earlier than ``since`` (clock skew allowed)."""
    at = change_moment(candidate.get("at"))
    return at is not None and at >= since - CLOCK_SKEW_SECONDS


def found(existing: Any) -> Outcome:
    """The answer for an object found rather than made: 200 and ``found_existing``."""
    return Outcome(200, {**existing, "found_existing": True} if isinstance(existing, dict) else existing)
