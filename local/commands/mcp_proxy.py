"""``make mcp-proxy`` (with ``make run`` running): the local stack's MCP server for clients that
speak plain HTTP only (MCP Inspector, IDE agents, the conformance suite). It listens on loopback
only (127.0.0.1, ``TOGGL_LOCAL_MCP_PORT`` [3001]) and forwards each request to the local API's
``/mcp`` signed with SigV4 and the local key pair, as ``mcp-proxy-for-aws`` does for a deployed
stack. Nothing else can reach it: the API itself still refuses unsigned requests.

A web page can make a browser send requests here (a ``no-cors`` fetch, a name rebound to
127.0.0.1), so the proxy signs a request only when its Host and Origin are this very proxy, and it
answers one request per connection: the body is read whole (or the request refused) and the
connection closed, so nothing after a request is ever parsed as another."""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import requests

from local.emulator.loopback import LoopbackServer
from local.emulator.sigv4 import LocalCredentials
from local.emulator.template import ROOT

# What a client may say that the server reads; everything else (cookies, auth) is not forwarded.
FORWARDED = ("content-type", "accept", "mcp-protocol-version", "mcp-session-id", "last-event-id")
# API Gateway's payload limit: a larger body is refused before it is read.
MAX_BODY_BYTES = 10 * 1024 * 1024
# The stack's answer headers not passed on: this connection's own, and Server and Date, which the
# proxy's answer already carries (a client would see each twice).
NOT_PASSED_ON = frozenset(
    {"content-length", "transfer-encoding", "connection", "content-encoding", "keep-alive", "server", "date"}
)


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class ClientGone(Exception):
    """The client hung up before its request was whole."""


class SigningProxy(LoopbackServer):
    name = "mcp-proxy"

    def __init__(self, api: str, credentials: LocalCredentials, port: int = 0) -> None:
        self.target = api.rstrip("/") + "/mcp"
        self.credentials = credentials
        super().__init__("127.0.0.1", port)
        self.httpd.handle_error = self._handle_error  # type: ignore[method-assign]

    @property
    def hosts(self) -> frozenset[str]:
        """The Host headers that name this proxy: loopback, on its own port."""
        port = self.httpd.server_address[1]
        return frozenset(f"{host}:{port}" for host in ("127.0.0.1", "localhost", "[::1]"))

    def serve(self, request: BaseHTTPRequestHandler) -> None:
        request.close_connection = True  # one request per connection, whatever the client asked
        try:
            body = _body(request)  # read whole (or refused) before anything else is decided
            self._allowed(request)
        except Refused as refused:
            _reply(request, refused.status, _document(refused.code, refused.message), {})
            _drain(request)
            return
        except ClientGone:
            _gone("before its request was whole")
            return
        headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED}
        signed = self.credentials.sign(request.command, self.target, body, headers)
        try:
            answer = requests.request(request.command, self.target, data=body, headers=signed, timeout=60)
        except requests.RequestException as exc:
            message = f"The local stack did not answer ({type(exc).__name__}): is make run running?"
            _reply(request, 502, _document("stack_unreachable", message), {})
            return
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in NOT_PASSED_ON}
        _reply(request, answer.status_code, answer.content, kept)

    def _allowed(self, request: BaseHTTPRequestHandler) -> None:
        """A web page that rebinds its name to 127.0.0.1, or posts here from its own origin, must
        not get requests signed: the Host and the Origin (when sent) must both be this proxy."""
        hosts = request.headers.get_all("Host") or []
        origins = request.headers.get_all("Origin") or []
        if len(hosts) != 1 or hosts[0].lower() not in self.hosts:
            raise Refused(
                403, "forbidden", f"Only loopback clients: Host must be one of {', '.join(sorted(self.hosts))}."
            )
        if len(origins) > 1 or (origins and origins[0].lower() not in {f"http://{h}" for h in self.hosts}):
            raise Refused(403, "forbidden", "Only loopback clients: Origin, when sent, must be this proxy's own.")

    def _handle_error(self, request: Any, client_address: Any) -> None:
        """An error outside ``serve`` (a client resetting before its request line): one line."""
        kind, error = sys.exc_info()[:2]
        if isinstance(error, ConnectionError | TimeoutError):
            _gone("before its request was read")
            return
        print(f"make mcp-proxy: {kind.__name__ if kind else 'error'}: {error}", file=sys.stderr)


def _body(request: BaseHTTPRequestHandler) -> bytes:
    """The request's body, framed by one plain Content-Length and read whole; anything else is refused."""
    if request.headers.get_all("Transfer-Encoding"):
        raise Refused(400, "bad_request", "Transfer-Encoding is not taken here: send the body with a Content-Length.")
    lengths = request.headers.get_all("Content-Length") or []
    if not lengths:
        if request.command == "POST":
            raise Refused(400, "bad_request", "A POST needs a Content-Length.")
        return b""
    if len(lengths) > 1 or not (lengths[0].isascii() and lengths[0].isdigit()):
        raise Refused(400, "bad_request", "Content-Length must be one header of digits.")
    length = int(lengths[0])
    if length > MAX_BODY_BYTES:
        raise Refused(413, "payload_too_large", f"The body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        body = request.rfile.read(length)
    except (ConnectionError, TimeoutError):
        raise ClientGone from None
    if len(body) < length:
        raise ClientGone
    return body


def _document(code: str, message: str) -> bytes:
    return json.dumps({"error": code, "message": message}).encode()


def _drain(request: BaseHTTPRequestHandler) -> None:
    """Discard what a refused client still sends (briefly), so that closing the connection does not
    reset it before the refusal is read. Never parsed: the connection closes next."""
    connection = request.connection
    try:
        connection.shutdown(socket.SHUT_WR)
        connection.settimeout(0.5)
        for _ in range(64):
            if not connection.recv(65536):
                break
    except OSError:
        pass


def _gone(when: str) -> None:
    print(f"make mcp-proxy: a client hung up {when}.", file=sys.stderr)


def _reply(request: BaseHTTPRequestHandler, status: int, data: bytes, headers: dict[str, str]) -> None:
    try:
        request.send_response(status)
        for key, value in headers.items():
            request.send_header(key, value)
        request.send_header("Content-Length", str(len(data)))
        request.send_header("Connection", "close")
        request.end_headers()
        request.wfile.write(data)
    except (ConnectionError, TimeoutError):
        _gone("before its answer was sent")


def _state() -> dict[str, Any]:
    path = Path(os.environ.get("TOGGL_LOCAL_DIR", str(ROOT / ".local"))) / "stack.json"
    if not path.exists():
        raise SystemExit("No local stack is running: start it with make run (in another terminal).")
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except ValueError:
        raise SystemExit(f"{path} is not what make run writes: delete it and start make run.") from None
    return state


def main() -> int:
    state = _state()
    credentials = LocalCredentials(state["access_key_id"], state["secret_access_key"], state["region"])
    port = int(os.environ.get("TOGGL_LOCAL_MCP_PORT", "3001"))
    try:
        proxy = SigningProxy(state["api"], credentials, port).start()
    except OSError:
        print(f"make mcp-proxy: port {port} on 127.0.0.1 is in use: set TOGGL_LOCAL_MCP_PORT", file=sys.stderr)
        return 1
    print(
        f"MCP (plain HTTP, loopback only): {proxy.url}/mcp -> {proxy.target} (signed). Ctrl-C stops.", file=sys.stderr
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    proxy.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
