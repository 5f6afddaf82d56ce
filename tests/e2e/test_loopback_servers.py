"""Every local server answers without waiting on Nagle's algorithm, and stops at once."""

from __future__ import annotations

import gc
import socket
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
import requests

from local.emulator.loopback import LoopbackServer
from local.emulator.moto_server import MotoServer
from local.toggl_sandbox import Sandbox
from local.toggl_sandbox.state import seed


class Echo(LoopbackServer):
    name = "echo"

    def __init__(self) -> None:
        super().__init__()
        self.nodelay: list[int] = []

    def serve(self, request: BaseHTTPRequestHandler) -> None:
        self.nodelay.append(request.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        data = b"{}"
        request.send_response(200)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)  # the head, then the body: two sends, as every server here writes them


def test_keep_alive_answers_do_not_wait_for_the_clients_delayed_ack() -> None:
    server = Echo().start()
    try:
        with requests.Session() as session:
            session.get(server.url, timeout=5).raise_for_status()  # connected
            started = time.perf_counter()
            for _ in range(20):
                session.get(server.url, timeout=5).raise_for_status()
            elapsed = time.perf_counter() - started
    finally:
        server.stop()
    assert all(server.nodelay)
    # With Nagle's algorithm on, each body waited for the ACK of its head, ~40 ms: 0.8 s in all.
    assert elapsed < 0.4


def test_moto_sends_at_once_too() -> None:
    server = MotoServer(port=0)  # never started: stop only closes it
    try:
        assert server.httpd.RequestHandlerClass.disable_nagle_algorithm  # type: ignore[attr-defined]
    finally:
        server.stop()


SERVERS: dict[str, Callable[[], Any]] = {
    "loopback": Echo,
    "toggl sandbox": lambda: Sandbox(seed(token="stop-token").world),
    "moto": lambda: MotoServer(port=0),
}


@pytest.mark.parametrize("make", SERVERS.values(), ids=SERVERS.keys())
def test_a_server_stops_at_once_with_a_connection_still_open(make: Callable[[], Any]) -> None:
    server = make().start()
    with requests.Session() as session:
        session.get(server.url + "/", timeout=5)  # kept alive where the server allows it
        started = time.perf_counter()
        server.stop()
        took = time.perf_counter() - started
    assert took < 0.2  # serve_forever's poll made every stop wait up to 0.5 s
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url + "/", timeout=2)


def test_a_server_started_and_not_kept_serves_on() -> None:
    url = Echo().start().url
    gc.collect()
    assert requests.get(url, timeout=5).status_code == 200
