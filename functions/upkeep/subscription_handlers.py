"""Entry points of the functions that keep Toggl's webhook subscriptions set up: the deploy-time
custom resource and the scheduled health check. (Each scheduled job has a module of its own, so
that a function imports only what its own entry point needs.)"""

from __future__ import annotations

from typing import Any

from toggl_connection.core.observability import lambda_entry
from toggl_connection.upkeep import subscription_jobs


@lambda_entry
def subscription_setup(event: dict[str, Any], context: Any) -> Any:
    return subscription_jobs.custom_resource(event, context)


@lambda_entry
def subscription_health(event: dict[str, Any], context: Any) -> Any:
    return subscription_jobs.health(event, context)
