"""Toggl requests per action on a warm container (lookups cached), against the sandbox."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from local import template
from local.lambda_runtime import LambdaContext
from local.toggl_sandbox import Sandbox
from local.toggl_sandbox.state import Seeded, seed


def _new_member(seeded: Seeded, i: int) -> int:
    user = seeded.world.add_user(f"bench{i}@acme.example", f"Bench {i}", f"bench-user-{i}", [seeded.workspace["id"]])
    return int(user["id"])


REQUESTS: dict[str, Callable[[int, Seeded], dict[str, Any]]] = {
    "create-client": lambda i, s: {"name": f"bench client {i}"},
    "create-user-invitation": lambda i, s: {"emails": [f"bench{i}@example.com"]},
    "add-project-member": lambda i, s: {"project_id": s.project["id"], "user_id": _new_member(s, i)},
    "create-task": lambda i, s: {"project_id": s.project["id"], "name": f"bench task {i}"},
}
FUNCTIONS = {
    "create-client": "CreateClientFunction",
    "create-user-invitation": "CreateUserInvitationFunction",
    "add-project-member": "AddProjectMemberFunction",
    "create-task": "CreateTaskFunction",
}


def measure(stack_names: dict[str, str], token: str) -> dict[str, Any]:
    from bench.warm import _load, quiet

    seeded = seed(token=token, plan="premium")
    sandbox = Sandbox(seeded.world, quota_per_hour=10**6, user_quota_per_hour=10**6).start()
    first: dict[str, int] = {}
    warm: dict[str, int] = {}
    try:
        names = {**stack_names, "TogglApiUrl": sandbox.url, "DefaultWorkspaceId": str(seeded.workspace["id"])}
        for action, logical_id in FUNCTIONS.items():
            fn = template.function(logical_id)
            os.environ.update(template.environment(fn, names))
            handler = _load(fn)
            for i in range(2):
                before = len(sandbox.requests)
                with quiet():
                    handler(REQUESTS[action](i, seeded), LambdaContext(function_name=logical_id, timeout_seconds=30))
                (warm if i else first)[action] = len(sandbox.requests) - before
    finally:
        sandbox.stop()
    return {"toggl_requests_per_action": warm, "toggl_requests_per_action_first_call": first}
