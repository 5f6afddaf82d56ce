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

    # --- time tracking ---------------------------------------------------------------------
    # A time entry create without ``workspace_id``, ``created_with`` or ``start`` (the Track
    # document calls all three required, and gives no refusal): filled in (the path's workspace,
    # now), or refused with 400 (``wid is required for time entry creation``, as third parties
    # report it; the other two texts are the sandbox's). A person's request (not the connection's
    # User-Agent) is always filled in: Toggl's own apps send all three.
    missing_create_fields: Literal["filled-in", "refused"] = "filled-in"
    # Whether the running entry that a new running entry stops (Toggl's engineers and recorded
    # traffic say it is stopped) is announced by an ``updated`` webhook: nothing says either way.
    # Default "none": the event describes the request's own entity, and the stop is still seen by
    # a ``since`` read (its ``at`` moves), which is the path that must then find it.
    auto_stop_webhook: Literal["none", "updated"] = "none"
    # PATCH .../stop of an entry that is not running: the documented 409 "Time entry already
    # stopped" (default: it is the document's word, though never recorded), or 200 with the entry
    # as it is (what a PUT of ``stop``, the other way to stop, would answer).
    second_stop: Literal["409", "200"] = "409"
    # DELETE of a time entry that is unknown or already deleted: the document lists only 200, 403
    # and 500. Default 404 (what every other time-entry call of the document answers for an id it
    # cannot find); or 200 with an empty body, as if deleted now.
    delete_missing: Literal["404", "200"] = "404"
    # GET /me/time_entries/{id} of a deleted entry: the documented 404 "Resource can not be found"
    # (default), or the entry with ``server_deleted_at`` set (``since`` reads keep deleted
    # entries, so the store has them).
    deleted_entry_read: Literal["404", "entry"] = "404"
    # A PUT that moves only the ``start`` of a finished entry: the ``stop`` stays and the
    # duration follows (as Toggl's apps edit a start), or the duration stays and the stop follows.
    # Undocumented; Toggl's old v8 issue #380 reports stop and duration drifting apart.
    start_moved: Literal["keeps-stop", "keeps-duration"] = "keeps-stop"
    # A second project of the same name (same client, same workspace, archived ones included):
    # refused with "Name has already been taken" (a server text Toggl's desktop app matches; the
    # v8 document calls the name unique per client and workspace), or allowed. Undocumented in v9.
    duplicate_project_names: Literal["refused", "allowed"] = "refused"
    # POST .../tags answers one tag object (recorded traffic, default) or an array of one (the
    # document's schema).
    tag_answer: Literal["object", "array"] = "object"
    # The Reports summary's answer has no documented schema. "full": every group and sub-group
    # has ``id`` (null for "none") and each sub-group ``title``; "sparse": ``title`` left out and
    # null ids left out, so a client that needs them is caught.
    summary_fields: Literal["full", "sparse"] = "full"


STRICT = Behaviour(
    lowercase_headers=True,
    offers_workspace_created=False,
    refuses_unlisted_filters=True,
    quota_402="bare",
    no_running_entry="404",
    duplicate_client_names="allowed",
    report_cursor="next-id",
    time_entry_ids="decreasing",
    missing_create_fields="refused",
    auto_stop_webhook="updated",
    second_stop="200",
    delete_missing="200",
    deleted_entry_read="entry",
    start_moved="keeps-duration",
    duplicate_project_names="allowed",
    tag_answer="array",
    summary_fields="sparse",
)
