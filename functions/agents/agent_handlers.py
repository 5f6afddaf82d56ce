"""Entry point of the agent tools function: MCP over ``POST /mcp`` (IAM-signed), a Bedrock Agents
action group's function call, or an AgentCore Gateway Lambda target's call; the same tools
behind all three."""

from __future__ import annotations

from typing import Any

from toggl_connection.agents.agent_events import handle
from toggl_connection.core.observability import lambda_entry


@lambda_entry
def agents(event: dict[str, Any], context: Any) -> Any:
    return handle(event, context)
