"""Every command the local sections show (the README's, docs/local.md's) runs as written against a
running ``make run`` (the default ports in them replaced by the ones this stack took), and succeeds.
A command that is not run here is in ``NOT_RUN`` (tests/unit/test_readme.py), with the reason; a
new command is run, or this fails."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.emulator.template import ROOT
from tests.e2e.test_local_stack import Running, start, stop
from tests.unit.test_readme import NOT_RUN, commands

DEFAULT_PORTS = {"api": 3000, "moto": 5055, "toggl": 9055}


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    stack = start(tmp_path_factory.mktemp("readme"))
    yield stack
    stop(stack)


def as_here(command: str, running: Running) -> str:
    """The command with the default ports of the docs replaced by this stack's."""
    for name, port in DEFAULT_PORTS.items():
        command = command.replace(f"127.0.0.1:{port}", str(running.client.state[name]).removeprefix("http://"))
    return command


@pytest.mark.parametrize("command", [c for c in commands() if c not in NOT_RUN])
def test_every_local_command_of_the_readme_runs_as_written(command: str, running: Running) -> None:
    env = {
        **{k: v for k, v in running.env.items() if k != "TOGGL_WEBHOOK_SECRET"},
        "PATH": os.environ["PATH"],
        "TOGGL_LOCAL_DIR": str(running.state_dir),
    }
    done = subprocess.run(
        ["bash", "-c", as_here(command, running)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, (command, done.stdout[-3000:], done.stderr[-3000:])
    assert "Traceback" not in done.stdout + done.stderr
    # awscurl exits 0 whatever the status: an error answer is a JSON body with "message" or "error"
    assert not re.search(r'"(message|error)":', done.stdout), done.stdout[-2000:]


def test_a_staged_url_is_api_gateways_unknown_route_locally(running: Running) -> None:
    # docs/local.md says /v1 URLs answer Missing Authentication Token locally: they do.
    url = str(running.client.state["api"]) + "/v1/queries/me"
    done = subprocess.run(
        [
            str(Path(ROOT / ".venv" / "bin" / "awscurl")),
            "--service",
            "execute-api",
            "--region",
            "us-east-1",
            "--access_key",
            "LOCALACCESSKEY",
            "--secret_key",
            "local-secret-access-key",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Missing Authentication Token" in done.stdout + done.stderr
