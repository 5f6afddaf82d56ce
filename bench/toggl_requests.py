"""Toggl requests per action on a warm container (lookups cached), against the sandbox."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from local.emulator import template
from local.emulator.lambda_runtime import LambdaContext
from local.toggl_sandbox import Sandbox
from local.toggl_sandbox.state import Seeded, seed


def _new_member(seeded: Seeded, i: int) -> int:
    user = seeded.world.add_user(f"bench{i}@acme.example", f"Bench {i}", f"bench-user-{i}", [seeded.workspace["id"]])
    return int(user["id"])


def time_entry(seeded: Seeded, running: bool = False) -> int:
    """An entry of the token's user put straight into the sandbox (no request counted): a running
    timer, or a finished hour."""
    entry = seeded.world.add_time_entry(
        seeded.workspace["id"], seeded.owner["id"], duration=-1 if running else 3600, description="bench"
    )
    return int(entry["id"])


def _stop_running(i: int, seeded: Seeded) -> dict[str, Any]:
    time_entry(seeded, running=True)
    return {}


# The i-th happy-path request of each action.
REQUESTS: dict[str, Callable[[int, Seeded], dict[str, Any]]] = {
    "create-client": lambda i, s: {"name": f"bench client {i}"},
    "create-user-invitation": lambda i, s: {"emails": [f"bench{i}@example.com"]},
    "add-project-member": lambda i, s: {"project_id": s.project["id"], "user_id": _new_member(s, i)},
    "create-task": lambda i, s: {"project_id": s.project["id"], "name": f"bench task {i}"},
    "start-time-entry": lambda i, s: {"description": f"bench timer {i}", "project_id": s.project["id"]},
    "stop-time-entry": lambda i, s: {"time_entry_id": time_entry(s, running=True)},
    "stop-time-entry (the running one)": _stop_running,
    "create-time-entry": lambda i, s: {"start": f"2026-12-0{i + 1}T13:00:00Z", "duration": 7200},
    "update-time-entry": lambda i, s: {"time_entry_id": time_entry(s), "description": f"bench {i}"},
    "delete-time-entry": lambda i, s: {"time_entry_id": time_entry(s)},
    "create-project": lambda i, s: {"name": f"bench project {i}"},
    "create-tag": lambda i, s: {"name": f"bench tag {i}"},
}
FUNCTIONS = {
    "create-client": "CreateClientFunction",
    "create-user-invitation": "CreateUserInvitationFunction",
    "add-project-member": "AddProjectMemberFunction",
    "create-task": "CreateTaskFunction",
    "start-time-entry": "StartTimeEntryFunction",
    "stop-time-entry": "StopTimeEntryFunction",
    "stop-time-entry (the running one)": "StopTimeEntryFunction",
    "create-time-entry": "CreateTimeEntryFunction",
    "update-time-entry": "UpdateTimeEntryFunction",
    "delete-time-entry": "DeleteTimeEntryFunction",
    "create-project": "CreateProjectFunction",
    "create-tag": "CreateTagFunction",
}
# The one action whose happy path costs more than one request: a stop that must find the timer.
FINDS_FIRST = "stop-time-entry (the running one)"


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
    return {
        "toggl_requests_per_action": warm,
        "toggl_requests_per_action_first_call": first,
        "toggl_requests_per_action_max": max(v for k, v in warm.items() if k != FINDS_FIRST),
        "toggl_requests_stop_without_id": warm[FINDS_FIRST],
    }
