"""Cold start: the time to import each function's handler module in a fresh process (the layer
on the path, as in Lambda), against ``import boto3`` alone, the floor of any boto3 Lambda.

A fresh process's ``import boto3`` alone varies by tens of per cent from one run to the next on
a shared machine, and that noise swamped the difference the ratio is about. So each handler is
measured as what it adds on top of boto3, in the same fresh process (``import boto3``, then the
clock, then the handler): ``ratio = (boto3 + added) / boto3``, with the fastest boto3 import and
the fastest addition of the runs (noise only ever adds time). The whole fresh import of each
handler is reported too, as before (``cold_start_fresh_import_ms``)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from typing import Any

from local.emulator import template

LAYER = template.ROOT / "layers" / "toggl" / "python"
SNIPPET = """
import json, time
t0 = time.perf_counter()
import boto3
t1 = time.perf_counter()
{handler}
t2 = time.perf_counter()
print(json.dumps([t1 - t0, t2 - t1]))
"""


def _sample(module: str | None, path: list[str]) -> tuple[float, float]:
    """One fresh process: (seconds to import boto3, seconds the handler module adds after it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONPATH", "POWERTOOLS_TRACE"))}
    env.update(PYTHONPATH=os.pathsep.join(path), POWERTOOLS_SERVICE_NAME="toggl-connection", PYTHONDONTWRITEBYTECODE="")
    code = SNIPPET.format(handler=f"import {module}" if module else "pass")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    boto3_seconds, added = json.loads(out.stdout)
    return float(boto3_seconds), float(added)


def _fresh_import_seconds(module: str, path: list[str]) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONPATH", "POWERTOOLS_TRACE"))}
    env.update(PYTHONPATH=os.pathsep.join(path), POWERTOOLS_SERVICE_NAME="toggl-connection", PYTHONDONTWRITEBYTECODE="")
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def measure(runs: int = 11) -> dict[str, Any]:
    modules = {fn.logical_id: (fn.module, fn.code_dir) for fn in template.functions()}
    distinct = sorted({(module, str(code_dir)) for module, code_dir in modules.values()})
    boto3_samples: list[float] = []
    added: dict[str, list[float]] = {m: [] for m, _ in distinct}
    fresh: dict[str, list[float]] = {m: [] for m, _ in distinct}
    for _ in range(runs):
        for module, code_dir in distinct:
            path = [str(LAYER), code_dir]
            boto3_seconds, extra = _sample(module, path)
            boto3_samples.append(boto3_seconds)
            added[module].append(extra)
            fresh[module].append(_fresh_import_seconds(module, path))
    floor = min(boto3_samples)
    per_module = {m: (floor + min(s)) / floor for m, s in added.items()}
    per_function = {fid: per_module[module] for fid, (module, _) in modules.items()}
    worst = max(per_function, key=per_function.__getitem__)
    return {
        "cold_start_ratio": round(per_function[worst], 3),
        "cold_start_worst_function": worst,
        "cold_start_boto3_ms": round(floor * 1000, 1),
        "cold_start_boto3_median_ms": round(statistics.median(boto3_samples) * 1000, 1),
        "cold_start_import_ms": {m: round(min(s) * 1000, 1) for m, s in added.items()},
        "cold_start_fresh_import_ms": {m: round(min(s) * 1000, 1) for m, s in fresh.items()},
        "cold_start_ratio_by_function": {k: round(v, 3) for k, v in sorted(per_function.items())},
    }
