"""``make test`` makes no request outside the machine: the tools it runs (checkov on the template)
are run as the Makefile runs them, with every proxy variable pointing at a loopback port that
records each connection it is asked to make; none may be asked for."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import threading
from collections.abc import Iterator

import pytest

from local.emulator.template import ROOT
from tests.unit.test_makefile import MAKEFILE, exported


class RecordingProxy:
    """A proxy on loopback that forwards nothing: it notes the first line of each request
    (``CONNECT host:443 ...`` or ``GET http://host/...``) and refuses it."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(5)
                try:
                    first = connection.recv(4096).split(b"\r\n", 1)[0]
                    self.asked.append(first.decode("latin-1"))
                    connection.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    self.asked.append("(a connection that sent nothing)")

    def close(self) -> None:
        self.socket.close()


@pytest.fixture
def proxy() -> Iterator[RecordingProxy]:
    recording = RecordingProxy()
    yield recording
    recording.close()


def through(proxy: RecordingProxy) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "http_proxy", "https_proxy")}
    env.update(dict.fromkeys(("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"), proxy.url))
    return env


def recipe_line(tool: str) -> list[str]:
    """The Makefile's command line for ``tool`` (its variables filled in)."""
    line = next(line.strip() for line in MAKEFILE.splitlines() if f"/bin/{tool} " in line and line.startswith("\t"))
    variables = dict(re.findall(r"^([A-Z_]+) := (.*)$", MAKEFILE, flags=re.MULTILINE))
    filled = re.sub(r"\$\((\w+)\)", lambda m: variables.get(m.group(1), m.group(0)), line)
    return shlex.split(filled)


def test_checkov_as_the_makefile_runs_it_asks_for_nothing_outside(proxy: RecordingProxy) -> None:
    command = recipe_line("checkov")
    if not (ROOT / command[0]).exists():
        pytest.skip("make template-check installs checkov; make test runs it first")
    done = subprocess.run(
        command, cwd=ROOT, env={**through(proxy), **exported()}, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert proxy.asked == []
    assert "Traceback" not in done.stdout + done.stderr


def test_the_recording_proxy_sees_what_a_tool_asks_for(proxy: RecordingProxy) -> None:
    # The check above can fail: a request through these variables is recorded.
    import requests

    env = through(proxy)
    session = requests.Session()
    session.trust_env = False
    with pytest.raises(requests.exceptions.ProxyError):
        session.get("https://example.invalid/", proxies={"https": env["HTTPS_PROXY"]}, timeout=5)
    assert proxy.asked and proxy.asked[0].startswith("CONNECT example.invalid:443")
