"""Entry points of the functions that keep Toggl's webhook subscriptions set up: the deploy-time
custom resource and the scheduled health check. (Each scheduled job has a module of its own, so
that a function imports only what its own entry point needs.)"""

from __future__ import annotations

from typing import Any

from toggl_connection import webhook_setup
from toggl_connection.observability import lambda_entry


@lambda_entry
def subscription_setup(event: dict[str, Any], context: Any) -> Any:
    return webhook_setup.custom_resource(event, context)


@lambda_entry
def subscription_health(event: dict[str, Any], context: Any) -> Any:
    return webhook_setup.health(event, context)
