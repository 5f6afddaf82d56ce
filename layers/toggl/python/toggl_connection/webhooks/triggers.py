"""The seven Toggl triggers the connection has a webhook route for."""

from __future__ import annotations

from typing import NamedTuple

from toggl_connection.bus.event_format import detail_type

ANY_EVENT_PATH = "/webhooks"


class Trigger(NamedTuple):
    """What a webhook route is for: one entity and one action."""

    entity: str
    action: str

    @property
    def detail_type(self) -> str:
        return detail_type(self.entity, self.action)

    @property
    def path(self) -> str:
        """``/webhooks/time-entry-created``"""
        return f"{ANY_EVENT_PATH}/{self.entity.replace('_', '-')}-{self.action}"


TRIGGERS = (
    Trigger("time_entry", "created"),
    Trigger("time_entry", "updated"),
    Trigger("time_entry", "deleted"),
    Trigger("project", "created"),
    Trigger("project", "updated"),
    Trigger("project", "deleted"),
    Trigger("workspace", "created"),
)


class Fallback(NamedTuple):
    """What finds a trigger's changes when no subscription of ours covers it (Toggl does not
    offer it, or it is beyond the plan's limits): a scheduled job of the stack, and what that job
    cannot see (None: everything a subscription would deliver)."""

    job: str
    misses: str | None = None

    @property
    def complete(self) -> bool:
        return self.misses is None

    def describe(self) -> str:
        return self.job if self.misses is None else f"{self.job}, which misses {self.misses}"


# The catch-up reads GET /me/time_entries: the token user's own time entries, no one else's.
_TIME_ENTRIES = Fallback("catch-up", "other users' time entries")
_PROJECTS = Fallback("catch-up")
# Every trigger, and what covers it without a subscription: the one map the sync, its report and
# doctor read.
FALLBACKS = {
    "Time Entry Created": _TIME_ENTRIES,
    "Time Entry Updated": _TIME_ENTRIES,
    "Time Entry Deleted": _TIME_ENTRIES,
    "Project Created": _PROJECTS,
    "Project Updated": _PROJECTS,
    "Project Deleted": _PROJECTS,
    "Workspace Created": Fallback("workspace poller"),
}
