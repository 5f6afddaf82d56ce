"""Toggl's three paging schemes, each read whole up to a limit.

- ``page``/``per_page`` returning a bare array: stop on a short page.
- ``page``/``per_page`` returning ``{"data": [...], "total_count": n}``: stop at ``total_count``.
- The Reports API's cursor headers (``X-Next-ID``, ``X-Next-Row-Number``, in any letter case),
  sent back as ``first_id``/``first_row_number``: go on while Toggl sends either of them; stop
  when both are absent; a repeated cursor stops too.

Each reader reads on until it knows whether there is more than the limit, so that ``truncated``
is known, not guessed. A failure part-way raises: nothing half-read is returned as whole.

Every item read carries its ``Position`` in Toggl's own terms (the page, or the Reports cursor,
that holds it, and how many items of that page come before it), so that a later read can start
where an earlier one stopped at the cost of the pages it needs, never a re-read from the start.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from toggl_connection.core.errors import TogglFailure, TogglUnavailable
from toggl_connection.core.integers import ascii_int
from toggl_connection.toggl.client import TogglClient, header_of

MAX_PER_PAGE = 200


class Position(NamedTuple):
    """Where an item is in Toggl's paging: ``page`` finds its page (a page number with its size, a
    Reports cursor, or None for a list Toggl answers whole) and ``skip`` counts the items before it."""

    page: Any
    skip: int


class Reading(NamedTuple):
    """How far to read: at most ``limit`` items, from ``start`` (an earlier read's ``resume``),
    ``resumable`` when a later read may start where this one stops (an agent's next page)."""

    limit: int
    start: Position | None = None
    resumable: bool = False


class Listing(NamedTuple):
    items: list[Any]
    truncated: bool
    warning: str | None = None
    # Facts about the whole list beside its items (a report's total), passed on as they are.
    extra: Mapping[str, Any] = MappingProxyType({})
    # Each item's position, and where the next read starts (None: at the end, or nowhere to go on).
    positions: tuple[Position, ...] = ()
    resume: Position | None = None


def _partial(failure: TogglFailure, read: int, pages: int) -> TogglFailure:
    """The same failure, saying how far reading got (the partial list is not returned)."""
    if pages == 0:
        return failure
    failure.message = (
        f"{failure.message} (failed after reading {read} item(s) in {pages} page(s); nothing is returned "
        f"because the list would be incomplete)"
    )
    return failure


# One page: its items, and how to find the next one (None: this was the last).
Page = Callable[[Any], tuple[list[Any], Any]]
REPEATED = "Toggl repeated a paging cursor; the report stops there."


def walk(read_page: Page, start: Position, limit: int, next_means_more: bool) -> Listing:
    """Items from ``start`` on, page by page, up to ``limit``. ``next_means_more``: Toggl names a
    next page only when it holds items (a cursor, a total), so there is no need to read it to
    know that the list goes on; otherwise a full page may be followed by an empty one."""
    items: list[Any] = []
    positions: list[Position] = []
    page, skip = start
    seen: set[str] = set()
    pages = 0
    while True:
        try:
            found, following = read_page(page)
        except TogglFailure as failure:
            raise _partial(failure, len(items), pages) from None
        pages += 1
        for index in range(skip, len(found)):
            if len(items) == limit:
                return Listing(items, True, positions=tuple(positions), resume=Position(page, index))
            items.append(found[index])
            positions.append(Position(page, index))
        if following is None:
            return Listing(items, False, positions=tuple(positions))
        if len(items) == limit and next_means_more:
            return Listing(items, True, positions=tuple(positions), resume=Position(following, 0))
        marker = json.dumps(following, sort_keys=True)
        if marker in seen:  # Toggl handed back a cursor it gave before: following it would loop for ever
            return Listing(items, True, REPEATED, positions=tuple(positions))
        seen.add(marker)
        page, skip = following, 0


def whole(data: list[Any], start: Position | None, limit: int) -> Listing:
    """A list Toggl answers in one piece, read from ``start`` up to ``limit``."""
    skip = start.skip if start is not None else 0
    chosen = data[skip : skip + limit]
    more = len(data) > skip + limit
    return Listing(
        chosen,
        more,
        positions=tuple(Position(None, skip + i) for i in range(len(chosen))),
        resume=Position(None, skip + limit) if more else None,
    )


def _numbered_pages(
    toggl: TogglClient,
    path: str,
    params: dict[str, Any],
    limit: int,
    envelope: bool,
    start: Position | None,
    resumable: bool,
) -> Listing:
    """``page``/``per_page`` paging: a short page ends it, and so does ``total_count`` when the
    answer is an envelope ``{"data": [...], "total_count": n}``. A read that may be resumed later
    uses Toggl's largest page, so that its positions hold for the next read."""
    per_page = MAX_PER_PAGE if resumable or start is not None else min(MAX_PER_PAGE, limit + 1)

    def read_page(where: Any) -> tuple[list[Any], Any]:
        number, size = where
        body = toggl.get(path, {**params, "page": number, "per_page": size}).data
        data = (body or {}).get("data") if envelope and isinstance(body, dict) else (body or [])
        if not isinstance(data, list):
            raise TogglUnavailable(f"Toggl answered {path} with something that is not a list.")
        total = body.get("total_count") if envelope and isinstance(body, dict) else None
        last = len(data) < size or (isinstance(total, int) and number * size >= total)
        return data, None if last else [number + 1, size]

    return walk(read_page, start or Position([1, per_page], 0), limit, next_means_more=envelope)


def bare_pages(
    toggl: TogglClient,
    path: str,
    params: dict[str, Any],
    limit: int,
    start: Position | None = None,
    resumable: bool = False,
) -> Listing:
    return _numbered_pages(toggl, path, params, limit, False, start, resumable)


def envelope_pages(
    toggl: TogglClient,
    path: str,
    params: dict[str, Any],
    limit: int,
    start: Position | None = None,
    resumable: bool = False,
) -> Listing:
    return _numbered_pages(toggl, path, params, limit, True, start, resumable)


CURSOR_HEADERS = {"first_id": "X-Next-ID", "first_row_number": "X-Next-Row-Number"}


def cursor_pages(
    toggl: TogglClient, path: str, body: dict[str, Any], limit: int, start: Position | None = None
) -> Listing:
    """The Reports API's paging: each page names the next with its cursor headers."""

    def read_page(cursor: Any) -> tuple[list[Any], Any]:
        # A search only reads: repeating it after a lost answer does nothing twice.
        response = toggl.request("POST", path, body={**body, **(cursor or {})}, repeatable=True)
        data = response.data or []
        if not isinstance(data, list):
            raise TogglUnavailable(f"Toggl answered {path} with something that is not a list.")
        following = {
            field: number
            for field, header in CURSOR_HEADERS.items()
            if (number := ascii_int(header_of(response.headers, header))) is not None
        }
        return data, following or None

    return walk(read_page, start or Position(None, 0), limit, next_means_more=True)
