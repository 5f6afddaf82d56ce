"""The moto tier: one stack on moto in-process per module (per worker), put back after each test
to the state a fresh provision gives (tests/moto_stack.py). A test that needs other stack
parameters makes its own stack instead, as ``toggl_connection`` does (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import AWS_ENV, CANARY_TOKEN, MOTO_CONFIG, logs_to_current_stdout
from tests.connection import Connection
from tests.moto_stack import SharedStack


@pytest.fixture(scope="module")
def shared_stack() -> Iterator[SharedStack]:
    """Module scope, not session: moto in-process stays on only while this tier's tests run, so a
    worker that runs e2e tests next reaches moto in server mode, not this."""
    with pytest.MonkeyPatch.context() as env:
        for key, value in AWS_ENV.items():
            env.setenv(key, value)
        for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
            env.delenv(key, raising=False)
        shared = SharedStack(api_token=CANARY_TOKEN, moto_config=MOTO_CONFIG)
        yield shared
        shared.stop()


@pytest.fixture
def connection(
    shared_stack: SharedStack, aws_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> Iterator[Connection]:
    """The stack of template.yaml on moto in-process, with a tap on the bus: as freshly provisioned."""
    logs_to_current_stdout()
    assert shared_stack.leftovers() == [], "an earlier test's state was left"
    yield Connection(shared_stack.stack, aws_env)
    shared_stack.reset()
