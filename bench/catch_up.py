"""What a catch-up run costs, against the Toggl sandbox and moto (server mode): Toggl requests,
events published and DynamoDB reads and writes, for a quiet run and for a run that finds the six
kinds of change (a time entry and a project created, updated and deleted)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from typing import Any

from local.emulator import template
from local.emulator.lambda_runtime import LambdaContext
from local.toggl_sandbox import Sandbox
from local.toggl_sandbox.state import seed


def measure(stack_names: dict[str, str], token: str) -> dict[str, Any]:
    from bench.warm import _load, quiet
    from toggl_connection.core import aws_clients

    seeded = seed(token=token, plan="premium")
    sandbox = Sandbox(seeded.world, quota_per_hour=10**6, user_quota_per_hour=10**6).start()
    calls: Counter[str] = Counter()

    def counter(name: str) -> Callable[..., None]:
        return lambda **_: calls.update([name])

    try:
        wid = seeded.workspace["id"]
        names = {**stack_names, "TogglApiUrl": sandbox.url, "DefaultWorkspaceId": str(wid)}
        fn = template.function("CatchUpFunction")
        os.environ.update(template.environment(fn, names))
        handler = _load(fn)
        for operation, kind in (
            ("PutItem", "writes"),
            ("UpdateItem", "writes"),
            ("DeleteItem", "writes"),
            ("GetItem", "reads"),
            ("PutEvents", "put_events"),
        ):
            service = "events" if operation == "PutEvents" else "dynamodb"
            aws_clients.client(service).meta.events.register(f"before-call.{service}.{operation}", counter(kind))

        def run() -> dict[str, Any]:
            calls.clear()
            before = len(sandbox.requests)
            with quiet():
                result: dict[str, Any] = handler({}, LambdaContext(function_name=fn.logical_id, timeout_seconds=60))
            return {
                "toggl_requests": len(sandbox.requests) - before,
                "events": result.get("published", 0),
                "dynamodb_writes": calls["writes"],
                "dynamodb_reads": calls["reads"],
                "put_events": calls["put_events"],
            }

        run()  # the baseline
        quiet_run = run()
        _six_changes(sandbox, seeded)
        busy_run = run()
    finally:
        sandbox.stop()
    return {"catch_up_quiet_run": quiet_run, "catch_up_run_with_six_changes": busy_run}


def _six_changes(sandbox: Sandbox, seeded: Any) -> None:
    import requests

    ws = f"{sandbox.url}/api/v9/workspaces/{seeded.workspace['id']}"
    auth = (seeded.token, "api_token")

    def call(method: str, path: str, body: Any = None) -> Any:
        response = requests.request(method, ws + path, json=body, auth=auth, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None

    # made before the catch-up's baseline: an entry and a project to change (the seeded project
    # is the one renamed)
    old_entry = seeded.world.next_id()
    seeded.world.time_entries[old_entry] = {
        "id": old_entry,
        "workspace_id": seeded.workspace["id"],
        "wid": seeded.workspace["id"],
        "user_id": seeded.owner["id"],
        "uid": seeded.owner["id"],
        "description": "old",
        "billable": False,
        "start": "2026-01-05T09:00:00+00:00",
        "stop": "2026-01-05T10:00:00+00:00",
        "duration": 3600,
        "duronly": True,
        "at": "2026-01-05T10:00:00+00:00",
        "server_deleted_at": None,
        "project_id": None,
        "task_id": None,
        "tags": [],
        "tag_ids": [],
    }
    call("POST", "/time_entries", {"description": "new", "duration": -1})
    call("PUT", f"/time_entries/{old_entry}", {"description": "changed"})
    doomed = call("POST", "/time_entries", {"description": "doomed", "duration": 60, "stop": None})
    call("DELETE", f"/time_entries/{doomed['id']}")
    call("POST", "/projects", {"name": "new"})
    call("PUT", f"/projects/{seeded.project['id']}", {"name": "renamed"})
    gone = call("POST", "/projects", {"name": "gone"})
    call("DELETE", f"/projects/{gone['id']}")
