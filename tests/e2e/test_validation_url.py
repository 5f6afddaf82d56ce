"""The asynchronous validation call, over real HTTP on loopback: one GET, no redirect followed.
(Which URLs are called at all is table-tested in tests/unit/test_toggl_client.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from local.emulator.loopback import LoopbackServer
from toggl_connection.webhooks.receive import call_validation_url


class Recorder(LoopbackServer):
    def __init__(self, status: int, location: str = "") -> None:
        self.status, self.location = status, location
        self.seen: list[tuple[str, str]] = []
        super().__init__()

    def serve(self, request: BaseHTTPRequestHandler) -> None:
        self.seen.append((request.path, request.headers.get("User-Agent", "")))
        request.send_response(self.status)
        if self.location:
            request.send_header("Location", self.location)
        request.send_header("Content-Length", "0")
        request.end_headers()


@pytest.fixture
def servers() -> Iterator[tuple[Recorder, Recorder]]:
    target = Recorder(200).start()
    redirecting = Recorder(302, target.url + "/elsewhere").start()
    yield redirecting, target
    redirecting.stop()
    target.stop()


def test_a_redirect_from_the_validation_url_is_not_followed(servers: tuple[Recorder, Recorder]) -> None:
    redirecting, target = servers
    status = call_validation_url(redirecting.url + "/webhooks/api/v1/validate/1/2/code")
    assert status == 302
    assert [path for path, _ in redirecting.seen] == ["/webhooks/api/v1/validate/1/2/code"]
    assert target.seen == []
    assert redirecting.seen[0][1].startswith("toggl-track-connection/")


def test_an_unreachable_validation_url_is_no_error() -> None:
    assert call_validation_url("http://127.0.0.1:9/webhooks/api/v1/validate/1/2/code") is None
