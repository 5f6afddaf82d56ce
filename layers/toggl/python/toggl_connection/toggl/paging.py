"""Toggl's three paging schemes, each read whole up to a limit.

- ``page``/``per_page`` returning a bare array: stop on a short page.
- ``page``/``per_page`` returning ``{"data": [...], "total_count": n}``: stop at ``total_count``.
- The Reports API's cursor headers (``X-Next-ID``, ``X-Next-Row-Number``, in any letter case),
  sent back as ``first_id``/``first_row_number``: go on while Toggl sends either of them; stop
  when both are absent; a repeated cursor stops too.

Each reader asks for one item more than the limit so that ``truncated`` is known, not guessed.
A failure part-way raises: nothing half-read is returned as whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from toggl_connection.core.errors import TogglFailure, TogglUnavailable
from toggl_connection.core.integers import ascii_int
from toggl_connection.toggl.client import TogglClient, header_of

MAX_PER_PAGE = 200


class Listing(NamedTuple):
    items: list[Any]
    truncated: bool
    warning: str | None = None
    # Facts about the whole list beside its items (a report's total), passed on as they are.
    extra: Mapping[str, Any] = MappingProxyType({})


def _partial(failure: TogglFailure, read: int, pages: int) -> TogglFailure:
    """The same failure, saying how far reading got (the partial list is not returned)."""
    if pages == 0:
        return failure
    failure.message = (
        f"{failure.message} (failed after reading {read} item(s) in {pages} page(s); nothing is returned "
        f"because the list would be incomplete)"
    )
    return failure


def _finish(items: list[Any], limit: int, more: bool) -> Listing:
    return Listing(items[:limit], truncated=more or len(items) > limit)


def _numbered_pages(toggl: TogglClient, path: str, params: dict[str, Any], limit: int, envelope: bool) -> Listing:
    """``page``/``per_page`` paging: a short page ends it, and so does ``total_count`` when the
    answer is an envelope ``{"data": [...], "total_count": n}``."""
    per_page = min(MAX_PER_PAGE, limit + 1)
    items: list[Any] = []
    page = 1
    while True:
        try:
            body = toggl.get(path, {**params, "page": page, "per_page": per_page}).data
        except TogglFailure as failure:
            raise _partial(failure, len(items), page - 1) from None
        data = (body or {}).get("data") if envelope and isinstance(body, dict) else (body or [])
        if not isinstance(data, list):
            raise TogglUnavailable(f"Toggl answered {path} with something that is not a list.")
        items.extend(data)
        total = body.get("total_count") if envelope and isinstance(body, dict) else None
        total = total if isinstance(total, int) else None
        if len(data) < per_page or (total is not None and len(items) >= total) or len(items) > limit:
            return _finish(items, limit, more=total is not None and total > limit)
        page += 1


def bare_pages(toggl: TogglClient, path: str, params: dict[str, Any], limit: int) -> Listing:
    return _numbered_pages(toggl, path, params, limit, envelope=False)


def envelope_pages(toggl: TogglClient, path: str, params: dict[str, Any], limit: int) -> Listing:
    return _numbered_pages(toggl, path, params, limit, envelope=True)


CURSOR_HEADERS = {"first_id": "X-Next-ID", "first_row_number": "X-Next-Row-Number"}


def cursor_pages(toggl: TogglClient, path: str, body: dict[str, Any], limit: int) -> Listing:
    items: list[Any] = []
    seen: set[tuple[tuple[str, int], ...]] = set()
    cursor: dict[str, int] = {}
    pages = 0
    while True:
        try:
            # A search only reads: repeating it after a lost answer does nothing twice.
            response = toggl.request("POST", path, body={**body, **cursor}, repeatable=True)
        except TogglFailure as failure:
            raise _partial(failure, len(items), pages) from None
        pages += 1
        data = response.data or []
        if not isinstance(data, list):
            raise TogglUnavailable(f"Toggl answered {path} with something that is not a list.")
        items.extend(data)
        cursor = {
            field: number
            for field, header in CURSOR_HEADERS.items()
            if (number := ascii_int(header_of(response.headers, header))) is not None
        }
        if not cursor or len(items) > limit:
            return _finish(items, limit, more=bool(cursor))
        key = tuple(sorted(cursor.items()))
        if key in seen:
            # Toggl handed back a cursor it gave before: following it would loop for ever.
            return Listing(
                items[:limit], truncated=True, warning="Toggl repeated a paging cursor; the report stops there."
            )
        seen.add(key)
