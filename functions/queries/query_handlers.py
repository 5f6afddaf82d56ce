"""Entry point of the query function: ``GET /queries/<name>`` (IAM-signed), or a direct
invocation with ``{"query": "<name>", "params": {...}}`` (Step Functions task)."""

from __future__ import annotations

from typing import Any

from toggl_connection.calls.queries import run
from toggl_connection.core.observability import lambda_entry


@lambda_entry
def query(event: dict[str, Any], context: Any) -> Any:
    return run(event, context)
