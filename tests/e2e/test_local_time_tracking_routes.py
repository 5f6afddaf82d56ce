"""The local API (what make run serves) answers the seven time tracking routes from template.yaml
as it is, IAM-signed like every action route: a request its authenticator refuses gets that
refusal, not API Gateway's answer for a route that does not exist. No action is invoked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from local.emulator.api_server import ApiServer

ROUTES = (
    "/actions/start-time-entry",
    "/actions/stop-time-entry",
    "/actions/create-time-entry",
    "/actions/update-time-entry",
    "/actions/delete-time-entry",
    "/actions/create-project",
    "/actions/create-tag",
)
REFUSED = "refused by the test's authenticator"
NO_ROUTE = "Missing Authentication Token"  # API Gateway's answer for a route it does not have


def refuse(method: str, url: str, headers: dict[str, str], body: bytes) -> str | None:
    return REFUSED


@pytest.fixture
def api() -> Iterator[str]:
    def no_environment(fn: object) -> dict[str, str]:
        raise AssertionError(f"no function may be invoked here, {fn!r} was")

    server = ApiServer(no_environment, port=0, authenticate=refuse).start()
    yield server.url
    server.stop()


def test_each_time_tracking_route_is_served_and_asks_for_a_signature(api: str) -> None:
    for path in ROUTES:
        answer = requests.post(api + path, json={}, timeout=10)
        assert (answer.status_code, answer.json()) == (403, {"message": REFUSED}), path
        # POST only, as the template says
        other = requests.get(api + path, timeout=10)
        assert (other.status_code, other.json()) == (403, {"message": NO_ROUTE}), path
    unknown = requests.post(api + "/actions/start-timer", json={}, timeout=10)
    assert (unknown.status_code, unknown.json()) == (403, {"message": NO_ROUTE})
