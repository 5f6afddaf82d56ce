"""``make mcp-proxy`` as a web page or a careless client meets it: the module run as make runs it
(its own process, finding the stack through its folder), in front of a local API that counts what
reaches it, driven over raw sockets. One request per connection, then the connection is closed;
a refused request's body is never read as another request; only loopback Hosts and Origins of its
own port; no body framing but Content-Length; a client hanging up costs at most one line."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from local.emulator.api_server import ApiServer
from local.emulator.sigv4 import LocalCredentials
from local.emulator.template import ROOT
from local.toggl_sandbox import Sandbox
from local.toggl_sandbox.state import Seeded
from tests.connection import Connection


@dataclass
class Proxied:
    port: int
    process: subprocess.Popen[str]
    toggl: Sandbox
    seeded: Seeded
    reached: list[tuple[str, str]] = field(default_factory=list)  # what reached the stack's API

    def stderr_after_stop(self) -> str:
        self.process.send_signal(signal.SIGINT)
        _, stderr = self.process.communicate(timeout=20)
        return stderr


@pytest.fixture
def proxied(toggl_connection: Connection, toggl: Sandbox, seeded: Seeded, tmp_path: Path) -> Iterator[Proxied]:
    credentials = LocalCredentials("AKIDLOCALPROXY", "local-proxy-secret", "us-east-1")
    reached: list[tuple[str, str]] = []

    def environment(fn: Any) -> dict[str, str]:
        return {**toggl_connection.environment(fn), "DEFAULT_WORKSPACE_ID": str(seeded.workspace["id"])}

    server = ApiServer(
        environment,
        port=0,
        authenticate=credentials.verify,
        caller_arn=credentials.caller_arn,
        on_request=lambda method, path, status, seconds: reached.append((method, path)),
    ).start()
    state = {
        "api": server.url,
        "access_key_id": credentials.access_key_id,
        "secret_access_key": credentials.secret_access_key,
        "region": credentials.region,
    }
    (tmp_path / "stack.json").write_text(json.dumps(state))
    env = {**os.environ, "TOGGL_LOCAL_DIR": str(tmp_path), "TOGGL_LOCAL_MCP_PORT": "0"}
    process = subprocess.Popen(
        [sys.executable, "-m", "local.commands.mcp_proxy"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr
    started = process.stderr.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+)/mcp", started)
    assert found, started
    proxy = Proxied(int(found[1]), process, toggl, seeded, reached)
    yield proxy
    if process.poll() is None:
        process.kill()
        process.communicate(timeout=10)
    server.stop()


def request(
    host: str | None, body: bytes = b"", headers: list[tuple[str, str]] | None = None, length: bool = True
) -> bytes:
    lines = ["POST /mcp HTTP/1.1"] + ([f"Host: {host}"] if host is not None else [])
    lines += [f"{name}: {value}" for name, value in headers or [("Content-Type", "application/json")]]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def exchange(port: int, data: bytes, seconds: float = 5.0) -> tuple[bytes, bool]:
    """What the proxy answers ``data`` with, and whether it closed the connection after it."""
    with socket.create_connection(("127.0.0.1", port), timeout=seconds) as connection:
        connection.sendall(data)
        received = b""
        while True:
            try:
                chunk = connection.recv(65536)
            except TimeoutError:
                return received, False  # still open, waiting for another request
            except ConnectionResetError:
                return received, True
            if not chunk:
                return received, True
            received += chunk


def arrived(proxied: Proxied) -> list[tuple[str, str]]:
    """What reached the stack, once its API had a moment to record it (it records a request after
    answering it, so a client may read the answer first)."""
    deadline, seen, quiet_since = time.monotonic() + 3, -1, time.monotonic()
    while time.monotonic() < deadline:
        if len(proxied.reached) != seen:
            seen, quiet_since = len(proxied.reached), time.monotonic()
        elif time.monotonic() - quiet_since > 0.2:
            break
        time.sleep(0.02)
    return list(proxied.reached)


def statuses(answer: bytes) -> list[int]:
    return [int(code) for code in re.findall(rb"HTTP/1\.[01] (\d{3}) ", answer)]


def ping(request_id: int = 1) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "ping"}).encode()


def invitation(email: str) -> bytes:
    call = {"name": "toggl_create_user_invitation", "arguments": {"emails": [email]}}
    return json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": call}).encode()


def test_a_loopback_client_is_answered_once_and_the_connection_closed(proxied: Proxied) -> None:
    host = f"127.0.0.1:{proxied.port}"
    answer, closed = exchange(proxied.port, request(host, ping()))
    assert statuses(answer) == [200] and closed and b"connection: close" in answer.lower()
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1]) == {"jsonrpc": "2.0", "id": 1, "result": {}}
    names = [line.split(b":", 1)[0].lower() for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]]
    assert len(names) == len(set(names)), names  # no header twice (Server, Date: the proxy's own)
    # a second request pipelined on the same connection is never read
    answer, closed = exchange(proxied.port, request(host, ping(1)) + request(host, ping(2)))
    assert statuses(answer) == [200] and closed and b'"id":2' not in answer
    assert arrived(proxied) == [("POST", "/mcp")] * 2


def test_a_refused_requests_body_is_never_read_as_a_second_request(proxied: Proxied) -> None:
    # Given a web page's no-cors fetch: a text/plain body that is itself a whole request to loopback
    inner = request(f"127.0.0.1:{proxied.port}", invitation("smuggled@example.com"))
    outer = request(
        f"evil.example:{proxied.port}",
        inner,
        [("Content-Type", "text/plain;charset=UTF-8"), ("Origin", "http://evil.example")],
    )
    # When it reaches the proxy (a rebound name: its Host is the page's)
    answer, closed = exchange(proxied.port, outer)
    # Then it is refused, once, and the connection closed: nothing was signed, sent or invited
    assert statuses(answer) == [403] and closed
    assert arrived(proxied) == [] and proxied.toggl.requests == [] and proxied.seeded.world.emails_sent == []


@pytest.mark.parametrize(
    "hosts",
    [
        ["evil.example:{port}"],
        ["127.0.0.1"],
        ["127.0.0.1:{other}"],
        ["localhost:{other}"],
        ["evil.example@127.0.0.1:{port}"],
        ["127.0.0.1:{port}@evil.example"],
        ["localhost.evil.example:{port}"],
        ["127.0.0.1:{port}", "127.0.0.1:{port}"],
        ["127.0.0.1:{port}", "evil.example:{port}"],
        [],
    ],
    ids=lambda hosts: " + ".join(hosts) or "no host",
)
def test_a_host_that_is_not_exactly_loopback_on_its_own_port_is_403(proxied: Proxied, hosts: list[str]) -> None:
    names = [h.format(port=proxied.port, other=proxied.port + 1) for h in hosts]
    extra = [("Host", name) for name in names[1:]]
    data = request(names[0] if names else None, ping(), [("Content-Type", "application/json"), *extra])
    answer, closed = exchange(proxied.port, data)
    assert statuses(answer) == [403] and closed and arrived(proxied) == []


@pytest.mark.parametrize(
    "origins",
    [
        ["http://evil.example"],
        ["null"],
        ["https://127.0.0.1:{port}"],
        ["http://127.0.0.1:{other}"],
        ["http://evil.example@127.0.0.1:{port}"],
        ["http://127.0.0.1:{port}.evil.example"],
        ["http://127.0.0.1:{port}/path"],
        ["http://127.0.0.1:{port}", "http://evil.example"],
    ],
    ids=lambda origins: " + ".join(origins),
)
def test_an_origin_that_is_not_loopback_on_its_own_port_is_403(proxied: Proxied, origins: list[str]) -> None:
    headers = [("Content-Type", "application/json")]
    headers += [("Origin", o.format(port=proxied.port, other=proxied.port + 1)) for o in origins]
    answer, closed = exchange(proxied.port, request(f"127.0.0.1:{proxied.port}", ping(), headers))
    assert statuses(answer) == [403] and closed and arrived(proxied) == []


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}"])
def test_each_loopback_host_and_origin_of_its_own_port_is_served(proxied: Proxied, host: str) -> None:
    name = host.format(port=proxied.port)
    headers = [("Content-Type", "application/json"), ("Origin", f"http://{name}")]
    answer, closed = exchange(proxied.port, request(name, ping(), headers))
    assert statuses(answer) == [200] and closed and arrived(proxied) == [("POST", "/mcp")]


def test_no_body_framing_but_content_length(proxied: Proxied) -> None:
    host = f"127.0.0.1:{proxied.port}"
    body = ping()
    chunked = request(
        host, f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n", [("Transfer-Encoding", "chunked")], length=False
    )
    both = request(host, body, [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")])
    unframed = request(host, body, length=False)
    twice = request(host, body, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    signed = request(host, body, [("Content-Type", "application/json")], length=False).replace(
        b"\r\n\r\n", f"\r\nContent-Length: +{len(body)}\r\n\r\n".encode(), 1
    )
    for data in (chunked, both, unframed, twice, signed):
        answer, closed = exchange(proxied.port, data)
        assert statuses(answer) == [400] and closed, data
    assert arrived(proxied) == []


def _hang_up(connection: socket.socket) -> None:
    """Close as a killed client does: a reset, not a goodbye."""
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


def test_a_client_hanging_up_costs_at_most_a_line_each(proxied: Proxied) -> None:
    host = f"127.0.0.1:{proxied.port}"
    hang_ups = 0
    # before its answer
    connection = socket.create_connection(("127.0.0.1", proxied.port))
    connection.sendall(request(host, ping()))
    _hang_up(connection)
    hang_ups += 1
    # in the middle of its body
    connection = socket.create_connection(("127.0.0.1", proxied.port))
    connection.sendall(request(host, ping())[:-5])
    time.sleep(0.2)
    _hang_up(connection)
    hang_ups += 1
    # once it has read its answer
    connection = socket.create_connection(("127.0.0.1", proxied.port), timeout=5)
    connection.sendall(request(host, ping()))
    assert statuses(connection.recv(65536)) == [200]
    _hang_up(connection)
    hang_ups += 1
    time.sleep(1.0)
    # the proxy still serves, and said no more than a line for each
    answer, _ = exchange(proxied.port, request(host, ping()))
    assert statuses(answer) == [200]
    stderr = proxied.stderr_after_stop()
    assert "Traceback" not in stderr and len(stderr.splitlines()) <= hang_ups, stderr
    assert proxied.process.returncode == 0
