"""``make run``: the whole connection on one machine, no AWS account, no Toggl account.

- moto in server mode, with the bus, archive, table and secrets that template.yaml declares,
  and a rule that taps every ``toggl.track`` event;
- the Toggl sandbox, seeded with a small account, with its Webhooks API;
- the API on 127.0.0.1:3000 serving every route of template.yaml with the real handlers
  (IAM routes need a SigV4 signature made with the local key pair);
- the subscription sync against the sandbox, so the real handshake and deliveries flow;
- the scheduled functions (subscription health, workspace poller, catch-up) on the deployed
  stack's default schedules, so they spend the sandbox's hourly quota as a deployed stack spends
  Toggl's; ``POST /_local/jobs/<logical id>`` (signed) runs one now, as ``make demo`` does.
  ``TOGGL_LOCAL_TIME_SCALE`` plays an hour in less time (the schedules and the sandbox's quota
  hour both shortened by that factor).

The sandbox's hourly quotas are, by default, ``EXPLORING_SCALE`` times Toggl's (600 ``/me``
requests, 4800 for a Starter organization), enough for an hour of exploring by hand (the demo,
doctor, an MCP client, the README's commands) on top of the schedules;
``TOGGL_LOCAL_TOGGL_LIMITS=toggl`` plays Toggl's own (30 ``/me``, the plan's organization quota).

Every event that reaches the bus is printed as one JSON line on stdout and appended to
``.local/events.jsonl``; stderr has one short line per request (and, the first time an IAM route
refuses a request as unsigned, and the first time as wrongly signed, one line saying how to sign);
the functions' own logs and metrics go to ``.local/functions.log``. Ctrl-C stops everything. Each
server binds its port once (0: any free one); ``.local/stack.json`` says which, for ``make demo``,
``make post`` and ``make doctor``. One make run per state folder (``run.lock``, there while it
runs): a second one in the same folder says so and stops. A start that fails (a port in use, a
folder in use) leaves the folder as it found it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from local.emulator import template
from local.emulator.template import ROOT
from local.toggl_sandbox import deliveries

REGION = "us-east-1"
# The scheduled functions, and the template parameter that sets each one's period in minutes.
SCHEDULES = {
    "WorkspacePollerFunction": "WorkspacePollMinutes",
    "CatchUpFunction": "CatchUpMinutes",
    "SubscriptionHealthFunction": "HealthCheckMinutes",
}
JOBS_PATH = "/_local/jobs/"
# TOGGL_LOCAL_TOGGL_LIMITS: the sandbox's hourly quotas are Toggl's times this. "explore" (the
# default): enough for an hour of exploring by hand; "toggl": Toggl's own numbers.
LIMITS = {"explore": 20, "toggl": 1}
EXPLORING_SCALE = LIMITS["explore"]


def deployed_period_seconds(logical_id: str) -> float:
    """How often a deployed stack runs this function with the template's default parameters."""
    return float(template.parameter_defaults(template.load())[SCHEDULES[logical_id]]) * 60


@dataclass(frozen=True)
class Options:
    api_port: int
    moto_port: int
    toggl_port: int
    state_dir: Path
    webhook_secret: str
    access_key_id: str
    secret_access_key: str
    poll_seconds: float
    health_seconds: float
    catch_up_seconds: float
    time_scale: float
    plan: str
    limits_scale: int

    @classmethod
    def from_environment(cls) -> Options:
        env = os.environ.get
        scale = float(env("TOGGL_LOCAL_TIME_SCALE", "1"))
        if scale <= 0:
            raise CannotStart("TOGGL_LOCAL_TIME_SCALE must be a positive number")
        limits = env("TOGGL_LOCAL_TOGGL_LIMITS") or "explore"
        if limits not in LIMITS:
            raise CannotStart(
                f"TOGGL_LOCAL_TOGGL_LIMITS must be {' or '.join(LIMITS)} "
                f"(explore: {EXPLORING_SCALE} times Toggl's hourly quotas, the default; toggl: Toggl's own)"
            )

        def period(variable: str, logical_id: str) -> float:
            return float(env(variable) or deployed_period_seconds(logical_id) / scale)

        return cls(
            api_port=int(env("TOGGL_LOCAL_API_PORT", "3000")),
            moto_port=int(env("TOGGL_LOCAL_MOTO_PORT", "5055")),
            toggl_port=int(env("TOGGL_LOCAL_TOGGL_PORT", "9055")),
            state_dir=Path(env("TOGGL_LOCAL_DIR", str(ROOT / ".local"))),
            webhook_secret=env("TOGGL_WEBHOOK_SECRET") or deliveries.TEST_SECRET,
            access_key_id=env("TOGGL_LOCAL_ACCESS_KEY_ID", "LOCALACCESSKEY"),
            secret_access_key=env("TOGGL_LOCAL_SECRET_ACCESS_KEY", "local-secret-access-key"),
            poll_seconds=period("TOGGL_LOCAL_POLL_SECONDS", "WorkspacePollerFunction"),
            health_seconds=period("TOGGL_LOCAL_HEALTH_SECONDS", "SubscriptionHealthFunction"),
            catch_up_seconds=period("TOGGL_LOCAL_CATCHUP_SECONDS", "CatchUpFunction"),
            time_scale=scale,
            # Starter: webhooks packed (2 webhooks of 6 events), and tasks (a paid feature) work.
            plan=env("TOGGL_LOCAL_PLAN", "starter"),
            limits_scale=LIMITS[limits],
        )


class CannotStart(Exception):
    """Why make run cannot start, in one line (a port in use, a folder another make run uses)."""


def _bind[T](start: Callable[[], T], port: int, variable: str) -> T:
    """A server bound to ``port``, or a one-line reason when the port is taken."""
    try:
        return start()
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        raise CannotStart(
            f"port {port} on 127.0.0.1 is in use: stop what uses it (a running make run?) or set {variable}"
        ) from exc


def _running_pid(state_file: Path) -> int | None:
    """The pid of the make run that wrote ``state_file``, while it is still running."""
    try:
        pid = int(json.loads(state_file.read_text())["pid"])
        os.kill(pid, 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return pid


def _log(text: str) -> None:
    # One write per line: print's text and newline are two writes, which two threads can interleave.
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


UNSIGNED = "Missing Authentication Token"  # API Gateway's answer to an IAM route's unsigned request


def awscurl_line(api_url: str, access_key_id: str, secret_access_key: str) -> str:
    """The banner's example of a signed request: awscurl (installed in .venv) with the local key pair."""
    return (
        f".venv/bin/awscurl --service execute-api --region {REGION} --access_key {access_key_id} "
        f"--secret_key {secret_access_key} {api_url}/queries/me"
    )


def signing_hint(refusal: str, api_url: str, access_key_id: str) -> str:
    """How to sign, for a request an IAM route refused with API Gateway's ``refusal``: the key id
    and the banner's awscurl line, never the secret access key."""
    what = "was not signed" if refusal == UNSIGNED else f"was refused for its signature ({refusal.rstrip('.')})"
    example = awscurl_line(api_url, access_key_id, "<secret access key>")
    return (
        f"  ^ that request {what}: IAM routes need SigV4 (service execute-api, region {REGION}) with access key id "
        f"{access_key_id} and the secret access key the banner shows, as in: {example}"
    )


@dataclass(frozen=True)
class _Found:
    """What a state folder held before a make run started in it: a start that fails puts it back."""

    folder: bool
    sizes: dict[Path, int | None]  # a file make run writes, and its size (None: it was not there)

    @classmethod
    def of(cls, folder: Path, files: tuple[Path, ...]) -> _Found:
        return cls(folder.is_dir(), {path: path.stat().st_size if path.exists() else None for path in files})

    def put_back(self) -> None:
        """The files as they were: those this run made removed, what it added to the others cut off."""
        for path, size in self.sizes.items():
            if size is None:
                path.unlink(missing_ok=True)
            elif path.exists():
                os.truncate(path, size)

    def remove_folder(self, folder: Path) -> None:
        """The folder, when this run made it and it is empty."""
        if not self.folder:
            with contextlib.suppress(OSError):
                folder.rmdir()


class LocalStack:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.events_file = options.state_dir / "events.jsonl"
        self.functions_log = options.state_dir / "functions.log"
        self._events_lock = threading.Lock()
        self._wrote_state = False
        self.extra_env: dict[str, str] = {}
        self.state_file = options.state_dir / "stack.json"
        self._job_locks = {logical_id: threading.Lock() for logical_id in SCHEDULES}
        self.lock_file = options.state_dir / "run.lock"
        self._locked = False
        self._found = _Found(True, {})
        self._hinted: set[bool] = set()  # the signing hints said (unsigned: True, wrongly signed: False)
        self._hint_lock = threading.Lock()
        # stdout carries the bus events only; what the functions print (EMF metrics, their logs)
        # goes to .local/functions.log, and stderr is left to one short line per request.
        self.out = sys.stdout

    # --- start ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Every part, in the order each needs the one before: the state folder, AWS, Toggl, the
        stack's resources, the API, the jobs; then ``stack.json`` says where they are."""
        self._take_the_state_folder()
        self._start_aws()
        self._start_toggl()
        self._provision_the_stack()
        self._start_the_api()
        self._start_the_jobs()
        self._write_state(self.api.url, self.moto.url)

    def _take_the_state_folder(self) -> None:
        """The state folder, locked for this make run; the functions' output sent to its log."""
        found = _Found.of(self.options.state_dir, (self.events_file, self.functions_log))
        self.options.state_dir.mkdir(parents=True, exist_ok=True)
        self._lock_folder()
        self._found = found  # the folder is ours: a failed start puts it back as it was
        self.events_file.touch()
        self.functions_output = self.functions_log.open("a", buffering=1)
        sys.stdout = self.functions_output
        # The functions' warnings (Powertools' "No application metrics to publish", ...) are theirs too.
        self._showwarning, warnings.showwarning = warnings.showwarning, self._function_warning

    def _start_aws(self) -> None:
        """AWS: moto in server mode. This process talks to nothing else (no real credentials used)."""
        from local.emulator.moto_server import MotoServer

        o = self.options
        self.moto = _bind(lambda: MotoServer(port=o.moto_port), o.moto_port, "TOGGL_LOCAL_MOTO_PORT").start()
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_ENDPOINT_URL": self.moto.url,
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
                "POWERTOOLS_METRICS_DISABLED": "true",
            }
        )
        for key in ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE"):
            os.environ.pop(key, None)
        from toggl_connection.core.observability import logger

        logger.registered_handler.setStream(self.functions_output)  # type: ignore[attr-defined]

    def _start_toggl(self) -> None:
        """Toggl: the sandbox, seeded."""
        from local.toggl_sandbox import Sandbox
        from local.toggl_sandbox.state import seed

        o = self.options
        self.seeded = seed(token="sandbox-api-token", plan=o.plan)
        self.toggl = _bind(
            lambda: Sandbox(
                self.seeded.world,
                port=o.toggl_port,
                report_undocumented=True,
                quota_window_seconds=3600 / o.time_scale,
                limits_scale=o.limits_scale,
            ),
            o.toggl_port,
            "TOGGL_LOCAL_TOGGL_PORT",
        ).start()

    def _provision_the_stack(self) -> None:
        """The stack's resources, as the template declares them."""
        from local.emulator.provision import provision

        self.stack = provision(
            webhook_secret=self.options.webhook_secret,
            api_token=self.seeded.token,
            stack_name="toggl-local",
            parameters={"TogglApiUrl": self.toggl.url, "DefaultWorkspaceId": str(self.seeded.workspace["id"])},
        )
        self.base_env = {
            k: os.environ[k]
            for k in (
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_REGION",
                "AWS_DEFAULT_REGION",
                "AWS_ENDPOINT_URL",
            )
        }

    def _start_the_api(self) -> None:
        """The API, with SigV4 on the IAM routes."""
        from local.emulator.api_server import ApiServer
        from local.emulator.sigv4 import LocalCredentials

        o = self.options
        self.credentials = LocalCredentials(o.access_key_id, o.secret_access_key, REGION)
        self.api = _bind(
            lambda: ApiServer(
                self.environment,
                port=o.api_port,
                authenticate=self.credentials.verify,
                on_request=lambda m, p, s, t: _log(f"{m} {p} -> {s} ({t * 1000:.0f} ms)"),
                caller_arn=self.credentials.caller_arn,
                control=self._control,
                on_refused=self._refused,
            ),
            o.api_port,
            "TOGGL_LOCAL_API_PORT",
        ).start()
        self.extra_env = {
            "WEBHOOK_BASE_URL": self.api.url,
            "SUBSCRIPTION_NAME": "toggl-local",
            "SUBSCRIPTION_OWNER": "toggl-local",
        }

    def _start_the_jobs(self) -> None:
        """The bus's tap, the subscriptions synced, the scheduled functions' baselines, then their
        schedules."""
        o = self.options
        self._every(0.2, self._drain_tap, "tap")
        self._sync_subscriptions(self.api.url)
        for baseline in ("WorkspacePollerFunction", "CatchUpFunction"):
            self._invoke(baseline)  # the baselines, before anything can change
        self._every(o.poll_seconds, lambda: self._invoke("WorkspacePollerFunction"), "workspace-poller")
        self._every(o.health_seconds, lambda: self._invoke("SubscriptionHealthFunction"), "subscription-health")
        self._every(o.catch_up_seconds, lambda: self._invoke("CatchUpFunction"), "catch-up")

    def _function_warning(
        self,
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        self.functions_output.write(warnings.formatwarning(message, category, filename, lineno, line))

    def _lock_folder(self) -> None:
        """One make run per state folder: a lock held as long as this process lives (the kernel
        lets it go however the process ends), taken before anything is started or written. The
        make run that holds it removes the file as it stops: a lock taken on a file removed
        meanwhile is let go, and the new file's taken instead."""
        import fcntl

        while True:
            lock = self.lock_file.open("a+")
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.seek(0)
                holder = lock.read().strip() or "?"
                lock.close()
                raise CannotStart(
                    f"another make run (pid {holder}) uses {self.options.state_dir}: stop it, "
                    "or give this one its own folder with TOGGL_LOCAL_DIR"
                ) from None
            try:
                current = os.stat(self.lock_file).st_ino == os.fstat(lock.fileno()).st_ino
            except FileNotFoundError:
                current = False
            if current:
                break
            lock.close()
        self._lock, self._locked = lock, True
        self._lock.truncate(0)
        self._lock.write(f"{os.getpid()}\n")
        self._lock.flush()

    def _release_folder(self) -> None:
        """The lock file removed (while still held: no other make run can take it meanwhile), then let go."""
        if self._locked:
            self.lock_file.unlink(missing_ok=True)
            self._lock.close()
            self._locked = False

    def _refused(self, method: str, target: str, refusal: str) -> None:
        """The first request refused as unsigned, and the first refused for its signature: one line
        each saying how to sign (the answer stays API Gateway's)."""
        unsigned = refusal == UNSIGNED
        with self._hint_lock:
            if unsigned in self._hinted:
                return
            self._hinted.add(unsigned)
        _log(signing_hint(refusal, self.api.url, self.options.access_key_id))

    def environment(self, fn: template.Function) -> dict[str, str]:
        return {**self.base_env, **template.environment(fn, self.stack.names), **self.extra_env}

    def _invoke(self, logical_id: str) -> Any:
        from local.emulator import lambda_runtime

        fn = template.function(logical_id)
        with self._job_locks[logical_id]:  # one run at a time, as a scheduled Lambda in AWS
            return lambda_runtime.invoke(fn, {}, self.environment(fn))

    def _control(self, method: str, path: str) -> tuple[int, Any]:
        """``POST /_local/jobs/<logical id>``: run a scheduled function now; its result."""
        logical_id = path.removeprefix(JOBS_PATH)
        if method != "POST" or not path.startswith(JOBS_PATH) or logical_id not in SCHEDULES:
            return 404, {"error": "not_found", "message": f"POST {JOBS_PATH}<one of {', '.join(SCHEDULES)}>"}
        try:
            return 200, {"function": logical_id, "result": self._invoke(logical_id)}
        except Exception as exc:  # noqa: BLE001 - the caller is told, the stack keeps running
            return 502, {"error": "job_failed", "message": f"{type(exc).__name__}: {exc}"}

    def _sync_subscriptions(self, api_url: str) -> None:
        from toggl_connection.toggl.client import TogglClient
        from toggl_connection.upkeep.subscription_sync import Subscriptions

        toggl = TogglClient(self.toggl.url, self.seeded.token, deadline=time.monotonic() + 60)
        report = Subscriptions(toggl, self.seeded.workspace["id"], "toggl-local").sync(
            api_url, self.options.webhook_secret
        )
        self.subscription_report = report
        _log(f"subscriptions: {report.layout}; unvalidated: {', '.join(report.unvalidated) or 'none'}")

    def _every(self, seconds: float, work: Any, name: str) -> None:
        def loop() -> None:
            while not self.stopping.wait(seconds):
                try:
                    work()
                except Exception as exc:  # noqa: BLE001 - a background job must not take the stack down
                    _log(f"{name}: {type(exc).__name__}: {exc}")

        thread = threading.Thread(target=loop, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def _drain_tap(self) -> None:
        from local.emulator.provision import drain

        assert self.stack.tap_queue_url
        for event in drain(self.stack.tap_queue_url, region=REGION, wait=True):
            line = json.dumps(event, separators=(",", ":"), sort_keys=True)
            with self._events_lock, self.events_file.open("a") as out:
                out.write(line + "\n")
            print(line, file=self.out, flush=True)

    def _write_state(self, api_url: str, moto_url: str) -> None:
        """What ``make demo`` and other local tools need to talk to this stack (local values only)."""
        state = {
            "api": api_url,
            "moto": moto_url,
            "toggl": self.toggl.url,
            "toggl_token": self.seeded.token,
            "webhook_secret": self.options.webhook_secret,
            "access_key_id": self.options.access_key_id,
            "secret_access_key": self.options.secret_access_key,
            "region": REGION,
            "workspace_id": self.seeded.workspace["id"],
            "organization_id": self.seeded.organization["id"],
            "project_id": self.seeded.project["id"],
            "member_id": self.seeded.member["id"],
            "events": str(self.events_file),
            "pid": os.getpid(),
            "subscription_name": self.extra_env["SUBSCRIPTION_NAME"],
        }
        written = self.state_file.with_suffix(".json.new")  # readers never see half a file
        written.write_text(json.dumps(state, indent=2) + "\n")
        written.replace(self.state_file)
        self._wrote_state = True

    # --- stop ----------------------------------------------------------------------------------
    def stop(self, failed: bool = False) -> None:
        """``failed``: the start failed; the folder is put back as it was found."""
        self.stopping.set()
        sys.stdout = self.out
        for thread in self.threads:
            thread.join(timeout=5)
        for part in ("api", "toggl", "moto"):
            if hasattr(self, part):
                getattr(self, part).stop()
        if self._wrote_state and _running_pid(self.state_file) == os.getpid():  # only our own, never another's
            self.state_file.unlink(missing_ok=True)
        if hasattr(self, "functions_output"):
            warnings.showwarning = self._showwarning
            self.functions_output.close()
        if failed and self._locked:  # before the lock is let go: what is put back is still ours
            self._found.put_back()
        self._release_folder()
        if failed:
            self._found.remove_folder(self.options.state_dir)


def banner(stack: LocalStack) -> str:
    o, s = stack.options, stack.seeded
    secret_source = (
        "TOGGL_WEBHOOK_SECRET"
        if os.environ.get("TOGGL_WEBHOOK_SECRET")
        else (f"the test secret {deliveries.TEST_SECRET!r}")
    )
    return f"""
Toggl Track Connection is running locally.

  API (every route of template.yaml)  {stack.api.url}
  Toggl sandbox                       {stack.toggl.url}   token: {s.token}
  AWS (moto, server mode)             {stack.moto.url}
  Events                              printed below as JSON lines, and appended to {stack.events_file}
  The functions' logs and metrics     {stack.functions_log}

  Webhook signing secret: {secret_source}
  IAM routes need SigV4 (service execute-api, region {REGION}) with the local key pair:
      access key id {o.access_key_id}, secret access key {o.secret_access_key}
      e.g. {awscurl_line(stack.api.url, o.access_key_id, o.secret_access_key)}
  Sandbox quota: {sandbox_limits(stack)}
  Subscriptions: {stack.subscription_report.layout}
  Scheduled jobs, as a deployed stack runs them: workspace poller every {_period(o.poll_seconds)}, catch-up every
      {_period(o.catch_up_seconds)}, subscription health every {_period(o.health_seconds)}

What you can do now:
  make demo                                  every trigger, action and query, and the events they make
  make post EVENT=events/webhook-project-created.json   send one of events/ (signed) to the API
  make doctor                                checks the set-up, one line per check
  change things in Toggl: POST {stack.toggl.url}/api/v9/workspaces/{s.workspace["id"]}/time_entries
      (Basic auth {s.token}:api_token), and watch the events arrive

Ctrl-C stops everything.
"""


def sandbox_limits(stack: LocalStack) -> str:
    """The sandbox's hourly quotas in force, in words."""
    from local.toggl_sandbox.server import USER_LEVEL_QUOTA
    from local.toggl_sandbox.state import PLAN_QUOTA

    org = stack.seeded.organization["id"]
    plan = stack.toggl.world.plan(org)
    limits = (
        f"{stack.toggl.me_limit()} /me requests an hour, {stack.toggl.organization_limit(org)} for the organization"
    )
    if stack.options.limits_scale == 1:
        return f"Toggl's: {limits} ({plan.capitalize()} plan)"
    return (
        f"{limits}: {stack.options.limits_scale} times Toggl's ({USER_LEVEL_QUOTA} and {PLAN_QUOTA[plan]} on "
        f"{plan.capitalize()}), for exploring; TOGGL_LOCAL_TOGGL_LIMITS=toggl plays Toggl's"
    )


def _period(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def main() -> int:
    try:
        options = Options.from_environment()
    except (CannotStart, ValueError) as error:
        _log(f"make run: {error}")
        return 1
    stack = LocalStack(options)
    stopped = threading.Event()

    def stop(signum: int, frame: Any) -> None:
        stopped.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        stack.start()
    except CannotStart as error:
        _log(f"make run: {error}")
        stack.stop(failed=True)
        return 1
    except Exception:
        stack.stop(failed=True)
        raise
    _log(banner(stack))
    while not stopped.wait(0.5):
        pass
    _log("stopping...")
    stack.stop()
    _log("stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
