"""Cold start: the time to import each function's handler module in a fresh process (the layer
on the path, as in Lambda), against ``import boto3`` alone, the floor of any boto3 Lambda."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from typing import Any

from local import template

LAYER = template.ROOT / "layers" / "toggl" / "python"
SNIPPET = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def _import_seconds(module: str, path: list[str], runs: int) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONPATH", "POWERTOOLS_TRACE"))}
    env.update(PYTHONPATH=os.pathsep.join(path), POWERTOOLS_SERVICE_NAME="toggl-connection", PYTHONDONTWRITEBYTECODE="")
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", SNIPPET.format(module=module)], env=env, capture_output=True,
                             text=True, check=True)  # fmt: skip
        samples.append(float(out.stdout.strip()))
    return statistics.median(samples)


def measure(runs: int = 11) -> dict[str, Any]:
    # boto3 and each handler are measured in alternation, so that a noisy machine affects both
    # alike. The ratio compares the fastest of the runs on each side (noise only ever adds time,
    # so the minimum is the truest estimate of the import's own cost); medians are reported too.
    modules = {fn.logical_id: (fn.module, fn.code_dir) for fn in template.functions()}
    distinct = sorted({(module, str(code_dir)) for module, code_dir in modules.values()})
    boto3_samples: list[float] = []
    handler_samples: dict[str, list[float]] = {m: [] for m, _ in distinct}
    for _ in range(runs):
        boto3_samples.append(_import_seconds("boto3", [], 1))
        for module, code_dir in distinct:
            handler_samples[module].append(_import_seconds(module, [str(LAYER), code_dir], 1))
    floor = min(boto3_samples)
    per_module = {m: min(s) for m, s in handler_samples.items()}
    per_function = {fid: per_module[module] / floor for fid, (module, _) in modules.items()}
    medians = {m: statistics.median(s) / statistics.median(boto3_samples) for m, s in handler_samples.items()}
    worst = max(per_function, key=per_function.__getitem__)
    return {
        "cold_start_ratio": round(per_function[worst], 3),
        "cold_start_worst_function": worst,
        "cold_start_boto3_ms": round(floor * 1000, 1),
        "cold_start_import_ms": {m: round(v * 1000, 1) for m, v in per_module.items()},
        "cold_start_ratio_by_function": {k: round(v, 3) for k, v in sorted(per_function.items())},
        "cold_start_median_ratio_by_module": {k: round(v, 3) for k, v in sorted(medians.items())},
    }
