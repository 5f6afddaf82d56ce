"""The connection's API on loopback, as ``sam local start-api`` serves it: every route of
``template.yaml`` answered by invoking that route's real handler in-process with a REST API proxy
event. Routes with the ``AWS_IAM`` authorizer need a valid SigV4 signature, as in AWS."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from local.emulator import apigw, lambda_runtime, template
from local.emulator.loopback import LoopbackServer

# A function's environment, given the function (the stack's names resolved by the caller).
Environment = Callable[[template.Function], dict[str, str]]
# Checks a request's SigV4 signature; returns API Gateway's refusal, or None when it is valid.
Authenticator = Callable[[str, str, dict[str, str], bytes], str | None]

# A local control (method, path) -> (status, document), for the paths under CONTROL_PREFIX.
Control = Callable[[str, str], tuple[int, Any]]
# Told (method, path with query, API Gateway's message) of each request an IAM route refused.
Refused = Callable[[str, str, str], None]

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
# make run's own routes (not template.yaml's): SigV4-signed like the IAM routes.
CONTROL_PREFIX = "/_local/"


def _refuse_all(method: str, url: str, headers: dict[str, str], body: bytes) -> str | None:
    return "Missing Authentication Token"


class ApiServer(LoopbackServer):
    name = "api"

    def __init__(
        self,
        environment: Environment,
        host: str = "127.0.0.1",
        port: int = 3000,
        authenticate: Authenticator = _refuse_all,
        on_request: Callable[[str, str, int, float], None] | None = None,
        caller_arn: str | None = None,
        control: Control | None = None,
        on_refused: Refused | None = None,
    ) -> None:
        """``caller_arn``: the identity API Gateway reports for a request ``authenticate`` let in.
        ``control``: answers the signed requests under ``CONTROL_PREFIX`` (make run's own).
        ``on_refused``: told of each request refused for its signature, after ``on_request``."""
        self.control = control
        self.on_refused = on_refused
        self.environment = environment
        self.authenticate = authenticate
        self.on_request = on_request
        self.caller_arn = caller_arn
        self.routes = [(route, fn) for fn in template.functions() for route in fn.routes]
        super().__init__(host, port)

    def match(self, method: str, path: str) -> tuple[template.Route, template.Function] | None:
        for route, fn in self.routes:
            if route.method == method and apigw.path_parameters(route.path, path) is not None:
                return route, fn
        return None

    def serve(self, request: BaseHTTPRequestHandler) -> None:
        started = time.perf_counter()
        url = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            self._reply(request, 413, {"message": "Request Too Long"})
            return
        body = request.rfile.read(length) if length else b""
        headers = dict(request.headers.items())
        found = self.match(request.command, url.path)
        refusal: str | None = None
        if self.control and found is None and url.path.startswith(CONTROL_PREFIX):
            refusal = self.authenticate(request.command, request.path, headers, body)
            status, document = (403, {"message": refusal}) if refusal else self.control(request.command, url.path)
            self._reply(request, status, document)
        elif found is None:
            # API Gateway's own answer for an unknown route.
            self._reply(request, 403, {"message": "Missing Authentication Token"})
            status = 403
        else:
            route, fn = found
            refusal = self.authenticate(request.command, request.path, headers, body) if route.iam else None
            if refusal:
                self._reply(request, 403, {"message": refusal})
                status = 403
            else:
                status = self._invoke(request, route, fn, url.path, url.query, headers, body)
        if self.on_request:
            self.on_request(request.command, request.path, status, time.perf_counter() - started)
        if refusal and self.on_refused:
            self.on_refused(request.command, request.path, refusal)

    def _invoke(
        self,
        request: BaseHTTPRequestHandler,
        route: template.Route,
        fn: template.Function,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
    ) -> int:
        try:
            text: bytes | str | None = body.decode("utf-8") if body else None
            binary = False
        except UnicodeDecodeError:
            text, binary = body, True  # not text: API Gateway passes it base64-encoded
        event = apigw.proxy_event(
            request.command,
            path,
            text,
            headers,
            query,
            resource=route.path,
            binary=binary,
            caller_arn=self.caller_arn if route.iam else None,
        )
        try:
            result = lambda_runtime.invoke(fn, event, self.environment(fn))
        except Exception as exc:  # noqa: BLE001 - what API Gateway answers when a function fails
            self._reply(request, 502, {"message": "Internal server error", "detail": type(exc).__name__})
            return 502
        if not isinstance(result, dict) or "statusCode" not in result:
            self._reply(request, 502, {"message": "Internal server error"})
            return 502
        payload = result.get("body") or ""
        data = base64.b64decode(payload) if result.get("isBase64Encoded") else str(payload).encode("utf-8")
        self._send(request, int(result["statusCode"]), data, result.get("headers") or {})
        return int(result["statusCode"])

    def _reply(self, request: BaseHTTPRequestHandler, status: int, document: Any) -> None:
        self._send(request, status, json.dumps(document).encode(), {"Content-Type": "application/json"})

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, data: bytes, headers: dict[str, str]) -> None:
        request.send_response(status, HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "")
        for key, value in headers.items():
            request.send_header(key, str(value))
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)
