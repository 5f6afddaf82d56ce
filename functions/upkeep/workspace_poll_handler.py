"""Entry point of the scheduled workspace poller: ``Workspace Created`` for new workspaces."""

from __future__ import annotations

from typing import Any

from toggl_connection.core.observability import lambda_entry
from toggl_connection.upkeep import workspace_poller


@lambda_entry
def workspace_poll(event: dict[str, Any], context: Any) -> Any:
    return workspace_poller.poll(event, context)
