"""What Toggl does where its documents are silent, as switches: the sandbox plays either reading,
so the connection is tested against both and cannot come to rely on one by accident.

``Behaviour()`` is the reading the sandbox plays by default; ``STRICT`` is the other one, as far
from the default as the documents allow. Each switch says what is known and what is not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Behaviour:
    # HTTP header names are case-insensitive; HTTP/2 front ends and many proxies send them in
    # lower case. Toggl's own spelling is X-Toggl-Quota-Remaining, X-Next-ID, ...
    lowercase_headers: bool = False
    # Whether GET /webhooks/api/v1/event_filters offers workspace/created. The Webhooks document's
    # example lists client, project and time_entry only; third-party sources disagree.
    offers_workspace_created: bool = True
    # Whether a filter that event_filters does not list is refused with the documented
    # "Invalid value '<action>' for event filter action" (else it is taken and never matches).
    refuses_unlisted_filters: bool = False
    # A quota 402: with X-Toggl-Quota-* headers and a text naming the quota (what public clients
    # report), or with neither header and a text that only speaks of a limit.
    quota_402: Literal["headers", "bare"] = "headers"
    # GET /me/time_entries/current with nothing running: 200 with a null body (seen by public
    # clients) or the documented 404 "Resource can not be found".
    no_running_entry: Literal["null", "404"] = "null"
    # Whether a second client with the same name is refused (undocumented either way).
    duplicate_client_names: Literal["refused", "allowed"] = "refused"
    # Which Reports cursor headers a page carries: both, or only one of them (the document says
    # each is sent "if has next page").
    report_cursor: Literal["both", "next-id", "next-row-number"] = "both"
    # The order of new time entries' ids. Real ids have been seen to grow, but no document says
    # they do: "decreasing" hands each new time entry a smaller id than the one before.
    time_entry_ids: Literal["increasing", "decreasing"] = "increasing"


STRICT = Behaviour(
    lowercase_headers=True,
    offers_workspace_created=False,
    refuses_unlisted_filters=True,
    quota_402="bare",
    no_running_entry="404",
    duplicate_client_names="allowed",
    report_cursor="next-id",
    time_entry_ids="decreasing",
)
