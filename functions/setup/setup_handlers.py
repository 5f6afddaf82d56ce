"""Entry points of the functions that keep the Toggl side set up and nothing missed: the
deploy-time custom resource, and the scheduled subscription health check, workspace poller and
catch-up."""

from __future__ import annotations

from typing import Any

from toggl_connection import catch_up, webhook_setup, workspace_poller
from toggl_connection.observability import lambda_entry


@lambda_entry
def subscription_setup(event: dict[str, Any], context: Any) -> Any:
    return webhook_setup.custom_resource(event, context)


@lambda_entry
def subscription_health(event: dict[str, Any], context: Any) -> Any:
    return webhook_setup.health(event, context)


@lambda_entry
def workspace_poll(event: dict[str, Any], context: Any) -> Any:
    return workspace_poller.poll(event, context)


@lambda_entry
def catch_up_changes(event: dict[str, Any], context: Any) -> Any:
    return catch_up.run(event, context)
