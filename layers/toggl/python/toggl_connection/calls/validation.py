"""Input models: named tuples whose type hints say what each field takes, checked by one small
validator with clear errors (``field: problem``). No pydantic, and no dataclasses either: both
cost cold-start time that a few typed fields do not need (``make bench``)."""

from __future__ import annotations

import math
import re
import types
import typing
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from toggl_connection.core import text
from toggl_connection.core.errors import ValidationFailed
from toggl_connection.core.integers import MAX_VALUE, ascii_int

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Toggl documents no limit on the addresses of one invitation; the stack sets one, so that one
# request cannot send thousands of e-mails (or outlast the function's timeout).
MAX_INVITATION_EMAILS = 100
Check = Callable[[Any], str | None]


def non_blank(value: Any) -> str | None:
    return "must not be blank" if isinstance(value, str) and not value.strip() else None


def positive(value: Any) -> str | None:
    return "must be greater than 0" if isinstance(value, int | float) and value <= 0 else None


def not_negative(value: Any) -> str | None:
    return "must not be negative" if isinstance(value, int | float) and value < 0 else None


def emails(value: Any) -> str | None:
    if not value:
        return "must list at least one e-mail address"
    if len(value) > MAX_INVITATION_EMAILS:
        return f"lists {len(value)} addresses; one invitation takes at most {MAX_INVITATION_EMAILS}: send several"
    bad = [v for v in value if not EMAIL.fullmatch(v)]
    if bad:
        return f"not an e-mail address: {bad[0]!r}"
    if len({v.lower() for v in value}) != len(value):
        return "lists the same address twice"
    return None


def _boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValidationFailed(name, "must be true or false")


def _whole(name: str, value: Any) -> int:
    number = ascii_int(value)
    if number is None:
        raise ValidationFailed(name, f"must be a whole number (ASCII digits, at most {MAX_VALUE})")
    return number


def _number(name: str, value: Any) -> float:
    # NaN and the infinities (JSON's non-standard tokens, which Python's parser takes) are no number
    # Toggl takes, and a body holding one cannot even be encoded to send.
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    raise ValidationFailed(name, "must be a finite number")


# The longest text a field takes: Toggl's limit where it documents one, else these (a longer
# filter in a query string would be Toggl's 414, an HTML page).
TEXT_LIMITS = {"name": 1000, "description": 3000, "notes": 3000}
DEFAULT_TEXT_LIMIT = 1000


def text_limit(name: str) -> int:
    return TEXT_LIMITS.get(name.split("[", 1)[0], DEFAULT_TEXT_LIMIT)


def _string(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationFailed(name, "must be a string")
    if not text.is_writable(value):
        raise ValidationFailed(name, text.PROBLEM)
    if len(value) > text_limit(name):
        raise ValidationFailed(name, f"is {len(value)} characters long; it takes at most {text_limit(name)}")
    return value


# The field types the models use, and how a JSON value becomes one (or a 422 that says why not).
_SCALARS: dict[Any, Callable[[str, Any], Any]] = {bool: _boolean, int: _whole, float: _number, str: _string}


def _convert(name: str, value: Any, kind: Any) -> Any:
    scalar = _SCALARS.get(kind)
    if scalar is not None:
        return scalar(name, value)
    if typing.get_origin(kind) is list:
        (item,) = typing.get_args(kind)
        if not isinstance(value, list):
            raise ValidationFailed(name, "must be a list")
        return [_convert(f"{name}[{i}]", v, item) for i, v in enumerate(value)]
    raise TypeError(f"unsupported field type {kind!r}")


@cache
def _hints(model: Any) -> dict[str, Any]:
    return typing.get_type_hints(model)


def parse[T](
    model: type[T],
    data: Mapping[str, Any],
    defaults: Mapping[str, Any] | None = None,
    checks: Mapping[str, Check] | None = None,
) -> T:
    """An instance of ``model`` (a NamedTuple) from ``data``; unknown fields, missing or wrong
    values are 422s. ``defaults`` fill fields left out; ``checks`` add rules beyond the types."""
    if not isinstance(data, Mapping):
        raise ValidationFailed("body", "must be a JSON object")
    hints = _hints(model)  # type: ignore[arg-type]
    names: tuple[str, ...] = model._fields  # type: ignore[attr-defined]
    has_default: dict[str, Any] = model._field_defaults  # type: ignore[attr-defined]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ValidationFailed(unknown[0], f"unknown field (this takes: {', '.join(sorted(names))})")
    values: dict[str, Any] = {}
    for name in names:
        kind = hints[name]
        optional = isinstance(kind, types.UnionType) and type(None) in typing.get_args(kind)
        if optional:
            kind = next(a for a in typing.get_args(kind) if a is not type(None))
        value = data.get(name)
        if value is None and defaults and defaults.get(name) is not None:
            value = defaults[name]
        if value is None:
            if name in has_default or optional:
                continue
            raise ValidationFailed(name, "is required")
        value = _convert(name, value, kind)
        check = (checks or {}).get(name)
        problem = check(value) if check else None
        if problem:
            raise ValidationFailed(name, problem)
        values[name] = value
    return model(**values)
