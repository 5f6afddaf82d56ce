from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from moto import mock_aws

from local import deliveries
from local.provision import provision
from tests.connection import Connection, fresh_containers
from toggl_connection.observability import logger


class _CurrentStdout:
    """Logs go to whatever sys.stdout is now: the test's own, where capsys reads them."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


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


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for key, value in AWS_ENV.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    return dict(AWS_ENV)


@pytest.fixture
def connection(aws_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> Iterator[Connection]:
    """The stack of template.yaml on moto in-process, with a tap on the bus."""
    fresh_containers()
    logger.registered_handler.setStream(_CurrentStdout())  # type: ignore[arg-type]
    with mock_aws():
        stack = provision(webhook_secret=deliveries.TEST_SECRET, api_token="canary-token-0123456789")
        yield Connection(stack, aws_env)
    fresh_containers()
