"""Invokes a function's real handler in this process the way Lambda would: its module loaded
from its ``CodeUri`` with the layer on the path, its environment from the template, a context
object with a deadline.

Functions share the process and may run at once (a function calling Toggl, which calls back a
webhook function, as in AWS). The process environment holds what all functions share; each
invocation sees its own function's environment through ``settings.ENVIRONMENT``, set for its
thread only. What the layer caches is keyed by the values it read, never by "the first function".
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from local.emulator.template import ROOT, Function

if str(ROOT / "layers" / "toggl" / "python") not in sys.path:
    sys.path.insert(0, str(ROOT / "layers" / "toggl" / "python"))
from toggl_connection.core import settings

LAYER_PATH = ROOT / "layers" / "toggl" / "python"
_lock = threading.RLock()


@dataclass
class LambdaContext:
    function_name: str
    timeout_seconds: float = 10.0
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    function_version: str = "$LATEST"
    # What AgentCore Gateway (and the SDKs' ClientContext) hand a function: ``.custom`` is a dict.
    client_context: Any = None
    _deadline: float = field(default=0.0)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _load(fn: Function) -> Any:
    for path in (str(LAYER_PATH), str(fn.code_dir)):
        if path not in sys.path:
            sys.path.insert(0, path)
    module = importlib.import_module(fn.module)
    return getattr(module, fn.attribute)


def invoke(
    fn: Function, event: Any, environment: dict[str, str], timeout: float | None = None, client_context: Any = None
) -> Any:
    """Call the function's handler with ``event`` under ``environment``; return its result."""
    timeout = timeout or float(fn.properties.get("Timeout", 10))
    with _lock:
        handler = _load(fn)
    token = settings.ENVIRONMENT.set({**os.environ, **environment, "AWS_LAMBDA_FUNCTION_NAME": fn.logical_id})
    try:
        context = LambdaContext(function_name=fn.logical_id, timeout_seconds=timeout, client_context=client_context)
        return handler(event, context)
    finally:
        settings.ENVIRONMENT.reset(token)
