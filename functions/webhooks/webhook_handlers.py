"""Entry points of the webhook functions: one Lambda function per Toggl trigger, plus one for
any event. ``template.yaml`` points each function at one name below."""

from __future__ import annotations

from typing import Any

from toggl_connection.core.observability import Handler, lambda_entry
from toggl_connection.webhooks.receive import receive
from toggl_connection.webhooks.triggers import Trigger


def webhook_handler(trigger: Trigger | None) -> Handler:
    @lambda_entry
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return receive(event, context, trigger)

    return handler


time_entry_created = webhook_handler(Trigger("time_entry", "created"))
time_entry_updated = webhook_handler(Trigger("time_entry", "updated"))
time_entry_deleted = webhook_handler(Trigger("time_entry", "deleted"))
project_created = webhook_handler(Trigger("project", "created"))
project_updated = webhook_handler(Trigger("project", "updated"))
project_deleted = webhook_handler(Trigger("project", "deleted"))
workspace_created = webhook_handler(Trigger("workspace", "created"))
any_event = webhook_handler(None)
