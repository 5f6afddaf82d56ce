"""``make doctor`` (with ``make run`` running): ``toggl-connection doctor`` against the local
stack, with the options its ``.local/stack.json`` gives: the sandbox as Toggl, its token, the
local API as the webhook base URL, the workspace, and the mark of the local stack's
subscriptions. Its quota check also says which limits the sandbox plays (for exploring, or
Toggl's own), asked of the sandbox without spending quota. Extra arguments (``make doctor
ARGS=--json``) are passed on."""

from __future__ import annotations

import os
import sys
from typing import Any

from local.commands.demo import LocalClient
from toggl_connection_cli import cli, doctor


def arguments(state: dict[str, Any]) -> list[str]:
    name = str(state.get("subscription_name", "toggl-local"))
    return [
        "doctor",
        "--api-url",
        str(state["toggl"]),
        "--webhook-base-url",
        str(state["api"]),
        "--workspace-id",
        str(state["workspace_id"]),
        "--name",
        name,
    ]


def main(extra: list[str]) -> None:
    client = LocalClient.from_state()
    state = client.state
    os.environ["TOGGL_API_TOKEN"] = str(state["toggl_token"])
    os.environ["TOGGL_WEBHOOK_SECRET"] = str(state["webhook_secret"])
    doctor.limits_in_force = client.sandbox_limits()
    try:
        cli.main([*arguments(state), *extra])
    finally:
        doctor.limits_in_force = None


if __name__ == "__main__":
    main(sys.argv[1:])
