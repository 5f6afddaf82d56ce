from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from local.emulator.provision import provision
from local.toggl_sandbox import Sandbox, deliveries
from local.toggl_sandbox.behaviour import Behaviour
from local.toggl_sandbox.server import UNDOCUMENTED
from local.toggl_sandbox.state import Seeded, seed
from tests.connection import Connection, fresh_containers
from toggl_connection.core.observability import logger

# Fixtures shared beyond this file: the servers of the e2e tier, and the tiers themselves.
pytest_plugins = ["tests.servers", "tests.tiers"]


class _CurrentStdout:
    """Logs go to whatever sys.stdout is now: the test's own, where capsys reads them."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


# The Personal API Token every test uses: it must never show up in a log, answer or event.
CANARY_TOKEN = "canary-pat-5f0c1e9a7b3d"

# moto in-process answers every request to an AWS host, CloudFormation's pre-signed S3 answer URLs
# included: those go through to the test's own CloudFormation (tests/cloudformation.py).
MOTO_CONFIG: Any = {"core": {"passthrough": {"urls": [r"https://cloudformation-custom-resource-response-"]}}}

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "TogglConnection",
}


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    """Every test starts, and leaves, as a newly started container: nothing cached carries over,
    and no metric a layer call outside a handler left unflushed."""
    from toggl_connection.core.observability import metrics

    fresh_containers()
    metrics.clear_metrics()
    yield
    fresh_containers()
    metrics.clear_metrics()


@pytest.fixture(autouse=True)
def toggl_as_documented() -> Iterator[None]:
    """Every test: each request the connection sends to the sandbox, and each answer the sandbox
    gives on an endpoint the connection uses, is one Toggl's documents describe."""
    UNDOCUMENTED.clear()
    yield
    found, UNDOCUMENTED[:] = list(UNDOCUMENTED), []
    assert not found, "Not as Toggl's documents describe it:\n" + "\n".join(dict.fromkeys(found))


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for key, value in AWS_ENV.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    return dict(AWS_ENV)


def logs_to_current_stdout() -> None:
    logger.registered_handler.setStream(_CurrentStdout())  # type: ignore[attr-defined]


def _stack(aws_env: dict[str, str], parameters: dict[str, str], api_token: str) -> Iterator[Connection]:
    """A stack of its own on moto in-process (the moto tier shares one: tests/integration/conftest.py)."""
    logs_to_current_stdout()
    with mock_aws(config=MOTO_CONFIG):
        stack = provision(webhook_secret=deliveries.TEST_SECRET, api_token=api_token, parameters=parameters)
        yield Connection(stack, aws_env)


@pytest.fixture
def seeded() -> Seeded:
    return seed(token=CANARY_TOKEN)


@pytest.fixture
def behaviour() -> Behaviour:
    """How the sandbox plays what Toggl's documents leave open (a module may override this)."""
    return Behaviour()


@pytest.fixture
def toggl(seeded: Seeded, behaviour: Behaviour) -> Iterator[Sandbox]:
    """The Toggl sandbox on a free loopback port, seeded with a small account."""
    sandbox = Sandbox(seeded.world, quota_per_hour=10_000, user_quota_per_hour=10_000, behaviour=behaviour).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def toggl_connection(
    aws_env: dict[str, str], capsys: pytest.CaptureFixture[str], toggl: Sandbox
) -> Iterator[Connection]:
    """The stack on moto in-process, its TOGGL_API_URL pointing at the sandbox."""
    yield from _stack(aws_env, {"TogglApiUrl": toggl.url}, CANARY_TOKEN)
