"""The connection as the tests drive it: the template's functions, invoked with their template
environment and real API Gateway proxy events, against whatever AWS boto3 points at."""

from __future__ import annotations

import json
from typing import Any

from local.emulator import apigw, lambda_runtime, template
from local.emulator.provision import Stack, drain
from local.toggl_sandbox import deliveries
from toggl_connection.calls import actions, workspace_names
from toggl_connection.core import aws_clients, idempotency, secrets
from toggl_connection.toggl import client, whoami


def fresh_containers() -> None:
    """Forget everything the layer keeps per container, as a newly started Lambda container
    would: clients, secrets, idempotency stores, the token's user, workspaces' organizations and
    listings, the HTTP session. The one hook: tests/conftest.py runs it around every test."""
    aws_clients.forget_clients()
    secrets.forget_secrets()
    idempotency.forget_stores()
    whoami.forget_user()
    actions.forget_organizations()
    workspace_names.forget_listings()
    client.forget_session()


class Connection:
    def __init__(self, stack: Stack, base_env: dict[str, str]) -> None:
        self.stack = stack
        self.base_env = base_env
        self.functions = template.functions()
        self.routes = {(r.method, r.path): fn for fn in self.functions for r in fn.routes}

    def environment(self, fn: template.Function) -> dict[str, str]:
        return {**self.base_env, **template.environment(fn, self.stack.names)}

    def invoke(self, logical_id: str, event: Any, timeout: float | None = None, **env: str) -> Any:
        """Invoke a function directly (Step Functions, SDK) or as a rule target would."""
        fn = template.function(logical_id)
        return lambda_runtime.invoke(fn, event, {**self.environment(fn), **env}, timeout=timeout)

    def resource(self, method: str, path: str) -> str:
        """The template route (``/queries/{name}``) that serves ``path``."""
        for route_method, route_path in self.routes:
            if route_method == method and apigw.path_parameters(route_path, path) is not None:
                return route_path
        raise KeyError((method, path))

    def get(self, path: str, query: str = "") -> dict[str, Any]:
        return self.request(apigw.proxy_event("GET", path, None, {}, query, resource=self.resource("GET", path)))

    def request(self, event: dict[str, Any]) -> dict[str, Any]:
        """Route an API Gateway proxy event to the function the template gives its path."""
        fn = self.routes[(event["httpMethod"], event["resource"])]
        response: dict[str, Any] = lambda_runtime.invoke(fn, event, self.environment(fn))
        return response

    def post(
        self, path: str, body: bytes, headers: dict[str, str] | None = None, binary: bool = False
    ) -> dict[str, Any]:
        return self.request(apigw.proxy_event("POST", path, body, headers, binary=binary))

    def post_json(self, path: str, document: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
        body = json.dumps(document).encode()
        return self.post(path, body, {"Content-Type": "application/json", **(headers or {})})

    def deliver(self, path: str, document: dict[str, Any], secret: str = deliveries.TEST_SECRET) -> dict[str, Any]:
        body = deliveries.encode(document)
        return self.post(path, body, deliveries.signed_headers(body, secret))

    def bus_events(self, wait: bool = False) -> list[dict[str, Any]]:
        assert self.stack.tap_queue_url
        return drain(self.stack.tap_queue_url, wait=wait)


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])
