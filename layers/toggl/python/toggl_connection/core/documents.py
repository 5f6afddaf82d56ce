"""Copies of JSON documents from outside that are safe to pass on: no ``api_token`` at any depth,
every string writable, and (for the bus) ids sent as digit strings made integers. Walked without
recursion, so any depth is fine; ``depth`` measures nesting the same way."""

from __future__ import annotations

from typing import Any

from toggl_connection.core.integers import ascii_int as as_id
from toggl_connection.core.text import writable

SECRET_FIELDS = frozenset({"api_token"})


def _rebuild(value: Any, integer_ids: bool) -> Any:
    """A copy of a JSON document without any ``api_token`` field, every string ``writable`` and,
    with ``integer_ids``, ``id``/``*_id``/``*_ids`` digit strings as integers. Iterative: any
    depth is fine."""
    holder: list[Any] = [None]
    pending: list[tuple[Any, Any, Any]] = [(value, holder, 0)]
    while pending:
        source, parent, slot = pending.pop()
        if isinstance(source, dict):
            copy: dict[Any, Any] = {}
            parent[slot] = copy
            for original, item in source.items():
                key = name = writable(str(original))
                if name.lower() in SECRET_FIELDS:
                    continue
                if integer_ids and _is_id_field(name) and as_id(item) is not None:
                    copy[key] = as_id(item)
                elif integer_ids and name.endswith("_ids") and isinstance(item, list):
                    copy[key] = [as_id(x) if as_id(x) is not None else None for x in item]
                    pending += [(x, copy[key], i) for i, x in enumerate(item) if as_id(x) is None]
                else:
                    copy[key] = None
                    pending.append((item, copy, key))
        elif isinstance(source, list):
            items: list[Any] = [None] * len(source)
            parent[slot] = items
            pending += [(item, items, i) for i, item in enumerate(source)]
        else:
            parent[slot] = writable(source) if isinstance(source, str) else source
    return holder[0]


def without_secrets(value: Any) -> Any:
    """A copy with every ``api_token`` field removed, at any depth."""
    return _rebuild(value, integer_ids=False)


def _is_id_field(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def with_integer_ids(value: Any) -> Any:
    """A copy without ``api_token`` fields where ``id``/``*_id``/``*_ids`` fields sent as digit
    strings are integers."""
    return _rebuild(value, integer_ids=True)


def depth(value: Any, limit: int) -> int:
    """How deeply ``value`` nests (counted without recursion, up to ``limit`` + 1)."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            pending += [(child, level + 1) for child in children]
    return deepest
