"""Powertools logger and metrics, shared by every function, and the one decorator stack every
Lambda entry point wears.

Tracing is Lambda's and API Gateway's own (``Tracing: Active`` in the template): every
invocation is traced without the X-Ray SDK, whose import alone doubled the cold start
(measured: ``make bench``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

# Lambda sets POWERTOOLS_* before the import; the defaults serve any other host (tests, local stack).
SERVICE = os.getenv("POWERTOOLS_SERVICE_NAME") or "toggl-connection"
NAMESPACE = os.getenv("POWERTOOLS_METRICS_NAMESPACE") or "TogglConnection"

logger = Logger(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace=NAMESPACE)

Handler = Callable[[dict[str, Any], Any], Any]


def lambda_entry(function: Handler) -> Handler:
    """Structured logs with the request context, and metrics flushed as EMF."""

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics(capture_cold_start_metric=True)
    @wraps(function)
    def entry(event: dict[str, Any], context: Any) -> Any:
        return function(event, context)

    return entry  # type: ignore[no-any-return]


def count(name: str, value: float = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def count_by(name: str, dimension: str, value: str) -> None:
    """A count with a dimension of its own (for example rejections by reason), flushed at once,
    with the ``service`` dimension every other metric has (alarms and dashboards filter on it)."""
    with single_metric(
        name=name, unit=MetricUnit.Count, value=1, namespace=metrics.namespace, default_dimensions={"service": SERVICE}
    ) as metric:
        metric.add_dimension(name=dimension, value=value)
