"""Real HTTP over loopback: moto in server mode for AWS, the local API in front of the real
handlers. Nothing here talks to anything but 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from local.emulator import template
from local.emulator.api_server import ApiServer
from local.emulator.moto_server import MotoServer
from local.emulator.provision import Stack, drain, provision
from local.toggl_sandbox import deliveries


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    server = MotoServer(port=0).start()  # bound once, on a port of its own choosing
    yield server.url
    server.stop()


@dataclass
class Live:
    api: str
    moto: str
    stack: Stack

    def post(self, path: str, body: bytes, headers: dict[str, str] | None = None) -> requests.Response:
        return requests.post(self.api + path, data=body, headers=headers or {}, timeout=30)

    def deliver(self, path: str, document: dict[str, Any], secret: str = deliveries.TEST_SECRET) -> requests.Response:
        body = deliveries.encode(document)
        return self.post(path, body, deliveries.signed_headers(body, secret))

    def bus_events(self) -> list[dict[str, Any]]:
        assert self.stack.tap_queue_url
        return drain(self.stack.tap_queue_url)


@pytest.fixture
def live(moto_url: str, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    requests.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    stack = provision(webhook_secret=deliveries.TEST_SECRET, api_token="canary-token-0123456789")
    base = {**aws_env, "AWS_ENDPOINT_URL": moto_url}

    def environment(fn: template.Function) -> dict[str, str]:
        return {**base, **template.environment(fn, stack.names)}

    server = ApiServer(environment, port=0).start()
    yield Live(api=server.url, moto=moto_url, stack=stack)
    server.stop()


@dataclass
class Hooked:
    """The stack on moto in-process, its API on loopback, the Toggl sandbox delivering to it."""

    api: str
    connection: Any
    toggl: Any
    seeded: Any

    def toggl_call(self, method: str, path: str, body: Any = None) -> Any:
        """What a person does in Toggl's app: a call to the sandbox as the account's owner."""
        from tests.conftest import CANARY_TOKEN

        response = requests.request(
            method, self.toggl.url + path, json=body, auth=(CANARY_TOKEN, "api_token"), timeout=30
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def six_changes(self) -> tuple[int, int]:
        """A time entry and a project each created, updated and deleted in Toggl's app; their ids."""
        ws = f"/api/v9/workspaces/{self.seeded.workspace['id']}"
        entry = self.toggl_call("POST", ws + "/time_entries", {"description": "six", "duration": -1})
        self.toggl_call("PUT", f"{ws}/time_entries/{entry['id']}", {"description": "six, renamed"})
        self.toggl_call("DELETE", f"{ws}/time_entries/{entry['id']}")
        project = self.toggl_call("POST", ws + "/projects", {"name": "Six"})
        self.toggl_call("PUT", f"{ws}/projects/{project['id']}", {"name": "Six, renamed"})
        self.toggl_call("DELETE", f"{ws}/projects/{project['id']}")
        self.settle()
        return int(entry["id"]), int(project["id"])

    def settle(self) -> None:
        from local.toggl_sandbox import webhooks

        webhooks.wait_for_deliveries(self.toggl)

    def setup(
        self, cloudformation: Any, kind: str, physical_id: str | None = None, base_url: str | None = None, **env: str
    ) -> dict[str, Any]:
        """The subscription custom resource, invoked as CloudFormation invokes it for this stack,
        its webhook URL this loopback API (or ``base_url``). Returns CloudFormation's answer."""
        stack_id = self.connection.stack["AWS::StackId"]
        before = len(cloudformation.answers)
        self.connection.invoke(
            "SubscriptionSetupFunction",
            cloudformation.request(kind, stack_id, physical_id),
            WEBHOOK_BASE_URL=base_url or self.api,
            DEFAULT_WORKSPACE_ID=str(self.seeded.workspace["id"]),
            **env,
        )
        assert len(cloudformation.answers) == before + 1, "CloudFormation got no answer"
        answer: dict[str, Any] = cloudformation.answers[-1]
        return answer


@pytest.fixture
def hooked(toggl_connection: Any, toggl: Any, seeded: Any) -> Iterator[Hooked]:
    server = ApiServer(toggl_connection.environment, port=0).start()
    yield Hooked(server.url, toggl_connection, toggl, seeded)
    server.stop()


@pytest.fixture
def cloudformation(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """CloudFormation's answer URL (https, amazonaws.com), reached over loopback; see tests/cloudformation.py."""
    from tests.cloudformation import CloudFormation

    cfn = CloudFormation(tmp_path)
    monkeypatch.setenv("HTTPS_PROXY", cfn.proxy_url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cfn.authority))
    yield cfn
    cfn.stop()
