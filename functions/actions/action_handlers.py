"""Entry points of the action functions: one Lambda function per Toggl action. Each accepts an
API Gateway request, a direct invocation with the action's JSON object, or an EventBridge
event whose ``detail`` is that object."""

from __future__ import annotations

from typing import Any

from toggl_connection.calls.actions import run
from toggl_connection.core.observability import Handler, lambda_entry


def action_handler(name: str) -> Handler:
    @lambda_entry
    def handler(event: dict[str, Any], context: Any) -> Any:
        return run(name, event, context)

    return handler


create_client = action_handler("create-client")
create_user_invitation = action_handler("create-user-invitation")
add_project_member = action_handler("add-project-member")
create_task = action_handler("create-task")
start_time_entry = action_handler("start-time-entry")
stop_time_entry = action_handler("stop-time-entry")
create_time_entry = action_handler("create-time-entry")
update_time_entry = action_handler("update-time-entry")
delete_time_entry = action_handler("delete-time-entry")
create_project = action_handler("create-project")
create_tag = action_handler("create-tag")
