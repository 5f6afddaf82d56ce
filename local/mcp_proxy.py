"""``make mcp-proxy`` (with ``make run`` running): the local stack's MCP server for clients that
speak plain HTTP only (MCP Inspector, IDE agents, the conformance suite). It listens on loopback
only (127.0.0.1, ``TOGGL_LOCAL_MCP_PORT`` [3001]) and forwards each request to the local API's
``/mcp`` signed with SigV4 and the local key pair, as ``mcp-proxy-for-aws`` does for a deployed
stack. Nothing else can reach it: the API itself still refuses unsigned requests."""

from __future__ import annotations

import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from local.loopback import LoopbackServer
from local.sigv4 import LocalCredentials
from local.template import ROOT

# What a client may say that the server reads; everything else (cookies, auth) is not forwarded.
FORWARDED = ("content-type", "accept", "mcp-protocol-version", "mcp-session-id", "last-event-id")


class SigningProxy(LoopbackServer):
    name = "mcp-proxy"

    def __init__(self, api: str, credentials: LocalCredentials, port: int = 0) -> None:
        self.target = api.rstrip("/") + "/mcp"
        self.credentials = credentials
        super().__init__("127.0.0.1", port)

    def serve(self, request: BaseHTTPRequestHandler) -> None:
        if not (_loopback(request.headers.get("Host")) and _loopback(request.headers.get("Origin"), absent_ok=True)):
            # A web page that rebinds its name to 127.0.0.1 must not get requests signed here.
            _reply(request, 403, b'{"error": "forbidden", "message": "Only loopback clients (Host and Origin)."}', {})
            return
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED}
        signed = self.credentials.sign(request.command, self.target, body, headers)
        answer = requests.request(request.command, self.target, data=body, headers=signed, timeout=60)
        hop_by_hop = ("content-length", "transfer-encoding", "connection", "content-encoding")
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in hop_by_hop}
        _reply(request, answer.status_code, answer.content, kept)


def _loopback(value: str | None, absent_ok: bool = False) -> bool:
    """Whether a Host (``127.0.0.1:3001``) or Origin (``http://localhost:3001``) header names loopback."""
    if value is None:
        return absent_ok
    host = urlsplit(value if "://" in value else f"//{value}").hostname or ""
    return host in ("127.0.0.1", "localhost", "::1")


def _reply(request: BaseHTTPRequestHandler, status: int, data: bytes, headers: dict[str, str]) -> None:
    try:
        request.send_response(status)
        for key, value in headers.items():
            request.send_header(key, value)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client went away: nothing to tell it


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
