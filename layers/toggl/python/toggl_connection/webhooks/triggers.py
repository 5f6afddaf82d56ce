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

# Triggers that something other than a subscription also finds, and what: a trigger left without
# a subscription (not offered by Toggl, or beyond the plan's limits) still reaches the bus.
POLLED = {"Workspace Created": "workspace poller"}
