"""Entry point of the scheduled catch-up: the changes the webhooks missed."""

from __future__ import annotations

from typing import Any

from toggl_connection.core.observability import lambda_entry
from toggl_connection.upkeep import catch_up


@lambda_entry
def catch_up_changes(event: dict[str, Any], context: Any) -> Any:
    return catch_up.run(event, context)
