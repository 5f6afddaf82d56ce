"""The command line as a person meets it, in a process of its own: every mistake is one or two
lines on stderr and exit code 2, never a traceback; --help reads as plain text."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from local.emulator.template import ROOT


def toggl_connection(*argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": f"{ROOT / 'layers' / 'toggl' / 'python'}:{ROOT}",
        # no AWS set-up of this machine may leak in: no files, no instance metadata
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        **env,
    }
    command = [sys.executable, "-c", "from toggl_connection_cli.cli import main; main()", *argv]
    return subprocess.run(command, env=clean, capture_output=True, text=True, timeout=60)


def assert_mistake(done: subprocess.CompletedProcess[str], says: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    assert 1 <= len(done.stderr.strip().splitlines()) <= 2, done.stderr
    assert says in done.stderr, done.stderr
    assert done.stdout == ""


def test_no_region() -> None:
    assert_mistake(toggl_connection("subscriptions", "status", "--stack", "toggl-prod"), "no AWS region")


def test_no_credentials() -> None:
    done = toggl_connection("doctor", "--stack", "toggl-prod", AWS_REGION="eu-west-1")
    assert_mistake(done, "no AWS credentials")


def test_an_unknown_stack(moto_url: str) -> None:
    done = toggl_connection(
        "subscriptions",
        "sync",
        "--stack",
        "no-such-stack",
        AWS_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_ENDPOINT_URL=moto_url,
    )
    assert_mistake(done, "there is no stack named 'no-such-stack'")


@pytest.mark.parametrize(
    ("argv", "env", "says"),
    [
        (("subscriptions", "sync", "--workspace-id", "1"), {}, "no Toggl API token"),
        (
            ("subscriptions", "sync", "--workspace-id", "1", "--api-url", "http://127.0.0.1:9"),
            {"TOGGL_API_TOKEN": "t"},
            "no webhook base URL",
        ),
        (("subscriptions", "sync", "--workspace-id", "١٢"), {"TOGGL_API_TOKEN": "t"}, "--workspace-id must be"),
        (("subscriptions", "launch"), {}, "invalid choice: 'launch'"),
        (("doctor", "--no-such-option"), {}, "unrecognized arguments: --no-such-option"),
        ((), {}, "the following arguments are required: command"),
        (
            ("subscriptions", "status", "--workspace-id", "1", "--api-url", "http://127.0.0.1:9"),
            {"TOGGL_API_TOKEN": "t"},
            "Could not connect to Toggl",
        ),
    ],
)
def test_mistakes_are_a_line_or_two(argv: tuple[str, ...], env: dict[str, str], says: str) -> None:
    assert_mistake(toggl_connection(*argv, **env), says)


def test_help_is_plain_text_and_names_what_it_takes() -> None:
    done = toggl_connection("--help")
    assert done.returncode == 0
    assert "`" not in done.stdout and "group" not in done.stdout
    assert "{subscriptions,doctor}" in done.stdout or "command" in done.stdout
    doctor = toggl_connection("doctor", "--help")
    assert "--stack" in doctor.stdout and "--json" in doctor.stdout and "`" not in doctor.stdout


def test_version_is_the_packages() -> None:
    from importlib.metadata import version

    done = toggl_connection("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"toggl-connection {version('toggl-track-connection')}"
