"""A fault-injecting HTTP proxy in front of moto: a share of EventBridge ``PutEvents`` calls
fail, half as a 500 (which the SDK retries) and half as a 200 with ``FailedEntryCount`` (which it
does not), the way EventBridge fails in production; and, with ``done_write_failure_rate``, the
first DynamoDB ``UpdateItem`` of a share of dedupe records (the "done" write after a publish) is
refused once, with an error the SDK does not retry. Everything else passes through."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from local.emulator.loopback import serve_in_thread


class FaultyAws:
    def __init__(self, upstream: str, failure_rate: float, seed: int = 7, done_write_failure_rate: float = 0.0) -> None:
        self.upstream = upstream.rstrip("/")
        self.failure_rate = failure_rate
        self.done_write_failure_rate = done_write_failure_rate
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.put_events = 0
        self.failed = 0
        self.done_writes_refused = 0
        self._done_write_seen: set[str] = set()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no answer waits on the client's delayed ACK (local/emulator/loopback.py)

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                proxy.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._stop: Callable[[], None] = serve_in_thread(self.server, "faulty-aws")
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._local = threading.local()

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        session: requests.Session = self._local.session
        return session

    def stop(self) -> None:
        self._stop()

    def _fault(self, target: str, body: bytes) -> str | None:
        if target == "DynamoDB_20120810.UpdateItem" and self.done_write_failure_rate:
            key = json.dumps(json.loads(body).get("Key"), sort_keys=True)
            with self.lock:
                first = key not in self._done_write_seen
                self._done_write_seen.add(key)
                if first and self.random.random() < self.done_write_failure_rate:
                    self.done_writes_refused += 1
                    return "done-write"
            return None
        if target != "AWSEvents.PutEvents":
            return None
        with self.lock:
            self.put_events += 1
            if self.random.random() >= self.failure_rate:
                return None
            self.failed += 1
            return self.random.choice(["http-500", "failed-entry"])

    def handle(self, http: BaseHTTPRequestHandler) -> None:
        body = http.rfile.read(int(http.headers.get("Content-Length") or 0))
        fault = self._fault(http.headers.get("X-Amz-Target", ""), body)
        if fault == "done-write":
            self._send(
                http,
                400,
                {
                    "__type": "com.amazonaws.dynamodb.v20120810#ValidationException",
                    "message": "injected fault: the done write is refused once",
                },
            )
            return
        if fault == "http-500":
            self._send(http, 500, {"__type": "InternalException", "message": "injected fault"})
            return
        if fault == "failed-entry":
            entries = json.loads(body).get("Entries", [])
            self._send(
                http,
                200,
                {
                    "FailedEntryCount": len(entries),
                    "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "injected fault"} for _ in entries],
                },
            )
            return
        headers = {k: v for k, v in http.headers.items() if k.lower() not in ("host", "content-length")}
        upstream = self._session().post(self.upstream + http.path, data=body, headers=headers, timeout=30)
        http.send_response(upstream.status_code)
        for key in ("Content-Type", "x-amzn-RequestId"):
            if key in upstream.headers:
                http.send_header(key, upstream.headers[key])
        http.send_header("Content-Length", str(len(upstream.content)))
        http.end_headers()
        http.wfile.write(upstream.content)

    @staticmethod
    def _send(http: BaseHTTPRequestHandler, status: int, document: Any) -> None:
        data = json.dumps(document).encode()
        http.send_response(status)
        http.send_header("Content-Type", "application/x-amz-json-1.1")
        http.send_header("Content-Length", str(len(data)))
        http.end_headers()
        http.wfile.write(data)
