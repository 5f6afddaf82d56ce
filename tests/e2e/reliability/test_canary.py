"""A canary Personal API Token and signing secret, run through every path of the connection:
webhooks, actions, queries, subscription setup and health, the workspace poller, the command
line. Neither ever shows up in a log line, a response or an event."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from local.generators.sample_events import QUERY_EXAMPLES
from local.toggl_sandbox import deliveries
from tests.conftest import CANARY_TOKEN
from tests.servers import Hooked
from toggl_connection.toggl.client import TogglClient
from toggl_connection.upkeep.subscription_sync import Subscriptions
from toggl_connection_cli.cli import run as cli

SECRETS = (CANARY_TOKEN, deliveries.TEST_SECRET, "workspace-api-token-never-leaves")


def test_no_secret_ever_leaves(
    hooked: Hooked, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    c, wid = hooked.connection, hooked.seeded.workspace["id"]
    answers: list[Any] = []
    # setup: the sync, the custom resource's answer, the health check, the poller
    toggl = TogglClient(hooked.toggl.url, CANARY_TOKEN, deadline=time.monotonic() + 60)
    answers.append(Subscriptions(toggl, wid, "canary").sync(hooked.api, deliveries.TEST_SECRET).as_dict())
    env = {
        "WEBHOOK_BASE_URL": hooked.api,
        "SUBSCRIPTION_NAME": "canary",
        "SUBSCRIPTION_OWNER": "canary",
        "DEFAULT_WORKSPACE_ID": str(wid),
    }
    answers.append(c.invoke("SubscriptionHealthFunction", {}, **env))
    answers.append(c.invoke("WorkspacePollerFunction", {}))
    # triggers: real deliveries from the sandbox, PINGs included (the sync above)
    entry = hooked.toggl_call("POST", f"/api/v9/workspaces/{wid}/time_entries", {"description": "c", "duration": -1})
    hooked.toggl_call("DELETE", f"/api/v9/workspaces/{wid}/time_entries/{entry['id']}")
    hooked.toggl_call("POST", f"/api/v9/organizations/{hooked.seeded.organization['id']}/workspaces", {"name": "c"})
    hooked.settle()
    answers.append(c.invoke("WorkspacePollerFunction", {}))
    for trigger in deliveries.TRIGGERS:
        answers.append(c.deliver(f"/webhooks/{trigger}", deliveries.sample(trigger, 700 + len(answers))))
    answers.append(c.deliver("/webhooks", deliveries.sample("project-created", 1), "wrong-secret"))
    # actions, succeeding and failing
    for path, body in (
        ("/actions/create-client", {"workspace_id": wid, "name": "Canary"}),
        ("/actions/create-user-invitation", {"workspace_id": wid, "emails": ["canary@example.com"]}),
        ("/actions/add-project-member", {"workspace_id": wid, "project_id": 1, "user_id": 1}),
        ("/actions/create-task", {"workspace_id": wid, "project_id": hooked.seeded.project["id"], "name": "t"}),
        ("/actions/create-client", {"workspace_id": 1, "name": "Forbidden"}),
    ):
        answers.append(c.post_json(path, body))
    # queries, every one of them
    for name, params in QUERY_EXAMPLES.items():
        answers.append(c.invoke("QueryFunction", {"query": name, "params": params}))
    # the command line
    monkeypatch.setenv("TOGGL_API_TOKEN", CANARY_TOKEN)
    monkeypatch.setenv("TOGGL_WEBHOOK_SECRET", deliveries.TEST_SECRET)
    argv = [
        "subscriptions",
        "status",
        "--json",
        "--api-url",
        hooked.toggl.url,
        "--workspace-id",
        str(wid),
        "--webhook-base-url",
        hooked.api,
        "--name",
        "canary",
    ]
    assert cli(argv) == 0

    events = c.bus_events()
    out = capsys.readouterr()
    assert '"toggl call"' in out.out and "event published" in out.out  # the paths did log
    assert {"Time Entry Created", "Time Entry Deleted", "Workspace Created"} <= {e["detail-type"] for e in events}
    for secret in SECRETS:
        for where, text in (
            ("logs", out.out + out.err),
            ("answers", json.dumps(answers)),
            ("events", json.dumps(events)),
        ):
            assert secret not in text, f"{secret[:6]}... found in {where}"
