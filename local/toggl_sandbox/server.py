"""The sandbox's HTTP machinery: routes registered by the API modules, Basic auth the way
Toggl does it, hourly quota with Toggl's headers and 402, and switchable faults (429, 5xx,
slowness) for fault tests. Everything it is asked is recorded for assertions, and every request
the connection sends is checked against Toggl's documents (``documented``): what they do not
describe is kept in ``undocumented`` (and in ``UNDOCUMENTED`` for the whole process), so a test
fails on it."""

from __future__ import annotations

import base64
import importlib
import json
import re
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from local.emulator.loopback import LoopbackServer
from local.toggl_sandbox import documented
from local.toggl_sandbox.behaviour import Behaviour
from local.toggl_sandbox.state import PLAN_QUOTA, World

API_MODULES = ("track", "track_reads", "time_entries", "reports", "webhooks")
USER_LEVEL_QUOTA = 30  # /me endpoints, every plan
QUOTA_WINDOW_SECONDS = 3600
# Every request of the connection, and every answer of the sandbox, that Toggl's documents do
# not describe, in this process (the tests fail on any).
UNDOCUMENTED: list[str] = []


class TogglError(Exception):
    """An error answer; Toggl's bodies are JSON strings such as ``"Invalid project_id"``.

    ``played``: an answer the documents do not give, played on purpose where they are silent
    (``docs/toggl-api.md`` lists them); the documented-answer check leaves it alone."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None, played: bool = False) -> None:
        super().__init__(message)
        self.status, self.message, self.headers, self.played = status, message, headers or {}, played


@dataclass
class Fault:
    """Answer the next ``times`` matching requests with ``status`` (after ``delay`` seconds).

    ``status=0`` with a ``delay`` only slows the request down and then serves it. ``after``: do
    the work first, then lose the answer (the status instead, or a dropped connection): the
    create happened and the caller cannot know."""

    status: int = 503
    times: int = 1
    path_prefix: str = ""
    method: str | None = None
    retry_after: str | None = None
    delay: float = 0.0
    body: Any = "Service Unavailable"
    drop: bool = False  # close the connection without answering
    after: bool = False

    def matches(self, method: str, path: str) -> bool:
        return path.startswith(self.path_prefix) and (self.method is None or self.method == method)


@dataclass
class Reply:
    """A handler's answer when it needs a status or headers of its own. ``empty``: no body at
    all (``Content-Length: 0``), as Toggl answers a time entry DELETE."""

    status: int
    payload: Any
    headers: dict[str, str] = field(default_factory=dict)
    empty: bool = False


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int = 0
    user_agent: str = ""

    @property
    def by_connection(self) -> bool:
        return self.user_agent.startswith(documented.CONNECTION_AGENT)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    user: dict[str, Any]
    args: dict[str, str]
    sandbox: Sandbox
    user_agent: str = ""

    @property
    def world(self) -> World:
        return self.sandbox.world

    @property
    def by_connection(self) -> bool:
        """Sent by the connection (else by a test acting as a person in Toggl's own app)."""
        return self.user_agent.startswith(documented.CONNECTION_AGENT)

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def refused(self, status: int, fallback: str) -> TogglError:
        """Toggl's documented text for ``status`` on this endpoint (the first one it lists)."""
        found = documented.endpoint(self.method, self.path)
        texts = found[0].errors.get(status, ()) if found else ()
        return TogglError(status, texts[0] if texts else fallback)


Handler = Callable[[Request], Any]
ROUTES: list[tuple[str, re.Pattern[str], Handler, bool, bool]] = []


def route(method: str, pattern: str, auth: bool = True, locked: bool = True) -> Callable[[Handler], Handler]:
    """Register ``pattern`` (``/api/v9/workspaces/{workspace_id}/clients``) for ``method``.

    ``locked=False``: the handler runs without the world lock (it may be called back while
    another handler holds it, as the validation URL is during a subscription's PING)."""
    regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")

    def register(handler: Handler) -> Handler:
        ROUTES.append((method, regex, handler, auth, locked))
        return handler

    return register


Observer = Callable[["Sandbox", str, str, dict[str, Any], int, dict[str, Any], Request], None]


class Sandbox(LoopbackServer):
    name = "toggl-sandbox"

    def __init__(
        self,
        world: World,
        host: str = "127.0.0.1",
        port: int = 0,
        quota_per_hour: int | None = None,
        user_quota_per_hour: int | None = USER_LEVEL_QUOTA,
        behaviour: Behaviour | None = None,
        report_undocumented: bool = False,
        quota_window_seconds: float = QUOTA_WINDOW_SECONDS,
        limits_scale: int = 1,
    ) -> None:
        """``report_undocumented``: also print each undocumented request on stderr (make run).
        ``quota_window_seconds``: Toggl's hour; shorter to play an hour of quota in less time.
        ``limits_scale``: every hourly quota this many times its own (1: Toggl's numbers; make
        run's default is more, enough for an hour of exploring by hand)."""
        modules = [importlib.import_module(f"local.toggl_sandbox.{name}") for name in API_MODULES]
        self.world = world
        self.behaviour = behaviour or Behaviour()
        self.report_undocumented = report_undocumented
        self.undocumented: list[str] = []
        self.quota_per_hour = quota_per_hour
        self.user_quota_per_hour = user_quota_per_hour
        self.quota_window_seconds = quota_window_seconds
        self.limits_scale = limits_scale
        self.faults: list[Fault] = []
        self.requests: list[Recorded] = []
        self.observers: list[Observer] = []
        # Fault switch: hand out this Reports cursor every time (a Toggl that loops).
        self.report_cursor_override: tuple[int, int] | None = None
        self._calls: dict[tuple[int, str], deque[float]] = {}
        self._lock = threading.RLock()
        super().__init__(host, port)
        self._on_stop: list[Callable[[], None]] = []
        for module in modules:  # a module may keep per-sandbox state (the webhooks' delivery queue)
            attach = getattr(module, "attach", None)
            if attach:
                attach(self)

    # lifecycle -------------------------------------------------------------------------------
    def stop(self) -> None:
        for hook in self._on_stop:
            hook()
        super().stop()

    # test controls ---------------------------------------------------------------------------
    def fail(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def calls(self, method: str | None = None, prefix: str = "") -> list[Recorded]:
        return [r for r in self.requests if (method is None or r.method == method) and r.path.startswith(prefix)]

    def emit(self, model: str, action: str, entity: dict[str, Any], workspace_id: int, req: Request) -> None:
        """Tell observers (the webhooks module) that an entity changed."""
        for observer in list(self.observers):
            observer(self, model, action, entity, workspace_id, req.user, req)

    # quota -----------------------------------------------------------------------------------
    def _quota_scope(self, user: dict[str, Any], path: str) -> tuple[tuple[int, str], int]:
        match = re.search(r"/(workspaces|organizations|workspace|subscriptions|limits|ping)/(\d+)", path)
        if path.startswith("/api/v9/me") or not match:
            return (user["id"], "me"), self.me_limit() or 10**9
        kind, ident = match.group(1), int(match.group(2))
        org = ident if kind == "organizations" else self.world.workspaces.get(ident, {}).get("organization_id")
        if org is None or org not in self.world.organizations:
            return (user["id"], f"unknown:{ident}"), 10**9
        return (user["id"], f"org:{org}"), self.organization_limit(org)

    def me_limit(self) -> int | None:
        """The /me requests allowed an hour (Toggl's: 30 on every plan), None: no limit."""
        return None if self.user_quota_per_hour is None else self.user_quota_per_hour * self.limits_scale

    def organization_limit(self, organization_id: int) -> int:
        """The organization's requests allowed an hour: its plan's (Toggl's), times ``limits_scale``."""
        limit = self.quota_per_hour if self.quota_per_hour is not None else PLAN_QUOTA[self.world.plan(organization_id)]
        return limit * self.limits_scale

    def _charge(self, user: dict[str, Any], path: str) -> tuple[bool, dict[str, str]]:
        """Count this request; False when the hourly quota is already spent."""
        key, limit = self._quota_scope(user, path)
        now = time.monotonic()
        with self._lock:
            window = self._calls.setdefault(key, deque())
            self._expire(window, now)
            allowed = len(window) < limit
            if allowed:
                window.append(now)
            remaining = max(0, limit - len(window))
            resets = self._resets_in(window, now)
        return allowed, {"X-Toggl-Quota-Remaining": str(remaining), "X-Toggl-Quota-Resets-In": str(resets)}

    def _expire(self, window: deque[float], now: float) -> None:
        while window and window[0] <= now - self.quota_window_seconds:
            window.popleft()

    def _resets_in(self, window: deque[float], now: float) -> int:
        return int(window[0] + self.quota_window_seconds - now) + 1 if window else 0

    def quota_used(self) -> list[dict[str, Any]]:
        """Each (user, scope) quota spent this hour: requests counted, and seconds until one frees."""
        now = time.monotonic()
        with self._lock:
            for window in self._calls.values():
                self._expire(window, now)
            return [
                {"user_id": user, "scope": scope, "used": len(window), "resets_in": self._resets_in(window, now)}
                for (user, scope), window in self._calls.items()
            ]

    def reset_quota(self) -> None:
        with self._lock:
            self._calls.clear()

    # serving ---------------------------------------------------------------------------------
    def serve(self, http: BaseHTTPRequestHandler) -> None:
        url = urlsplit(http.path)
        length = int(http.headers.get("Content-Length") or 0)
        raw = http.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        record = Recorded(
            http.command,
            url.path,
            parse_qs(url.query, keep_blank_values=True),
            body,
            user_agent=http.headers.get("User-Agent", ""),
        )
        with self._lock:
            self.requests.append(record)
        if record.by_connection:
            self._check_documented(record)
        headers = {"X-Toggl-Request-Id": uuid.uuid4().hex}
        played = empty = False
        try:
            status, payload, extra, empty = self._answer(http, url.path, record, headers)
        except TogglError as error:
            status, payload, extra, played = error.status, error.message, error.headers, error.played
        except _Dropped:
            record.status = -1
            http.close_connection = True
            return
        record.status = status
        answer_problems = [] if played else documented.answer_problems(record.method, url.path, status, payload)
        if answer_problems:
            with self._lock:
                self.undocumented.extend(f"answer: {p}" for p in answer_problems)
                UNDOCUMENTED.extend(f"answer: {p}" for p in answer_problems)
        headers.update(extra)
        data = b"" if empty else json.dumps(payload).encode()
        http.send_response(status)
        headers.setdefault("Content-Type", "application/json; charset=utf-8")
        for key, value in headers.items():
            http.send_header(key.lower() if self.behaviour.lowercase_headers else key, value)
        http.send_header("Content-Length", str(len(data)))
        http.end_headers()
        http.wfile.write(data)

    def _check_documented(self, record: Recorded) -> None:
        problems = [
            f"request: {p}" for p in documented.request_problems(record.method, record.path, record.query, record.body)
        ]
        with self._lock:
            self.undocumented.extend(problems)
            UNDOCUMENTED.extend(problems)
        if problems and self.report_undocumented:
            print(f"toggl sandbox: undocumented request: {'; '.join(problems)}", file=sys.stderr, flush=True)

    @staticmethod
    def _act_out(fault: Fault) -> None:
        time.sleep(fault.delay)
        if fault.drop:
            raise _Dropped
        if fault.status:
            fault_headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            raise TogglError(fault.status, fault.body, fault_headers)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None

    def _answer(
        self, http: BaseHTTPRequestHandler, path: str, record: Recorded, headers: dict[str, str]
    ) -> tuple[int, Any, dict[str, str], bool]:
        handler, auth, locked, args = _route(record.method, path)
        user = self._authenticate(http.headers.get("Authorization"), record.method, path) if auth else {}
        # Played before the quota is charged, so a request a fault answers spends none (unless
        # ``after``: then the work is done and only its answer is lost).
        fault = self._take_fault(record.method, path)
        if fault and not fault.after:
            self._act_out(fault)
        extra = self._charge_or_refuse(user, path) if auth else {}
        request = Request(record.method, path, record.query, record.body, user, args, self, record.user_agent)
        result = self._run(handler, request, locked)
        if fault and fault.after:
            self._act_out(fault)
        if isinstance(result, Reply):
            return result.status, result.payload, {**extra, **result.headers}, result.empty
        return 200, result, extra, False

    def _charge_or_refuse(self, user: dict[str, Any], path: str) -> dict[str, str]:
        """The quota headers for this request, or Toggl's 402 when the hour's quota is spent."""
        allowed, extra = self._charge(user, path)
        if not allowed:
            raise self._quota_spent(extra)
        return extra

    def _run(self, handler: Handler, request: Request, locked: bool) -> Any:
        if locked:
            with self.world.lock:
                return handler(request)
        return handler(request)

    def _quota_spent(self, quota_headers: dict[str, str]) -> TogglError:
        """Toggl's 402 for a spent hourly quota, in the form ``behaviour.quota_402`` picks."""
        if self.behaviour.quota_402 == "bare":
            return TogglError(402, "You have reached the hourly limit of API requests for your plan.")
        seconds = quota_headers["X-Toggl-Quota-Resets-In"]
        return TogglError(
            402, f"You have hit your hourly API request quota. It resets in {seconds} seconds.", quota_headers
        )

    def _authenticate(self, header: str | None, method: str, path: str) -> dict[str, Any]:
        if not header:
            raise TogglError(401, "Unauthorized", {"X-Authorization-Missing": "true"})
        scheme, _, encoded = header.partition(" ")
        try:
            token, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            token, password = "", ""
        user = self.world.user_by_token(token) if scheme.lower() == "basic" and password == "api_token" else None
        if user is None:
            found = documented.endpoint(method, path)
            texts = found[0].errors.get(403, ()) if found else ()
            raise TogglError(403, texts[0] if texts else "Forbidden")
        return user


def _route(method: str, path: str) -> tuple[Handler, bool, bool, dict[str, str]]:
    """The handler registered for ``method`` and ``path``, whether it needs auth and the world
    lock, and the path's arguments; Toggl's 404 when none is."""
    for route_method, regex, handler, auth, locked in ROUTES:
        match = regex.match(path)
        if match and route_method == method:
            return handler, auth, locked, match.groupdict()
    raise TogglError(404, "404 page not found")


class _Dropped(Exception):
    pass


# --- the sandbox's own switches (not Toggl's API) --------------------------------------------------
@route("GET", "/_sandbox/quota", auth=False, locked=False)
def quota_state(req: Request) -> Any:
    """The hourly quotas spent so far, and the limits in force, without spending any. ``scale``:
    Toggl's limits are played this many times over; ``toggl_``: Toggl's own numbers (the plan's,
    for an organization)."""
    sandbox = req.sandbox
    world = sandbox.world
    return {
        "hour_seconds": sandbox.quota_window_seconds,
        "scale": sandbox.limits_scale,
        "me_limit": sandbox.me_limit(),
        "toggl_me_limit": USER_LEVEL_QUOTA,
        "organizations": [
            {
                "id": org,
                "plan": world.plan(org),
                "limit": sandbox.organization_limit(org),
                "toggl_limit": PLAN_QUOTA[world.plan(org)],
            }
            for org in sorted(world.organizations)
        ],
        "spent": sandbox.quota_used(),
    }


@route("POST", "/_sandbox/quota", auth=False, locked=False)
def quota_reset(req: Request) -> Any:
    """``{"reset": true}``: a new hour for every quota (what waiting for Toggl's reset would do)."""
    if not isinstance(req.body, dict) or req.body.get("reset") is not True:
        raise TogglError(400, 'send {"reset": true}', played=True)
    req.sandbox.reset_quota()
    return {"reset": True}
