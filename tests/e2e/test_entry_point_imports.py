"""Every function imports only what its own entry point needs: a handler module that pulls in the
layer module of another function's job pays for it on every cold start (``make bench`` measures
the time; this checks the cause)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from local.emulator import template

LAYER = template.ROOT / "layers" / "toggl" / "python"
# The layer modules that carry one function's job (the other modules are shared plumbing).
JOBS = frozenset(
    {
        "toggl_connection.webhooks.receive",
        "toggl_connection.calls.actions",
        "toggl_connection.calls.queries",
        "toggl_connection.upkeep.subscription_jobs",
        "toggl_connection.upkeep.subscription_sync",
        "toggl_connection.upkeep.workspace_poller",
        "toggl_connection.upkeep.catch_up",
        "toggl_connection.agents.agent_events",
    }
)
# A job module may rest on others: the subscription jobs run the subscription sync; the agent
# tools are the actions and the queries.
NEEDS = {
    "toggl_connection.upkeep.subscription_jobs": {"toggl_connection.upkeep.subscription_sync"},
    "toggl_connection.agents.agent_events": {"toggl_connection.calls.actions", "toggl_connection.calls.queries"},
}
SNIPPET = "import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"


@pytest.mark.parametrize("fn", template.functions(), ids=lambda fn: fn.logical_id)
def test_a_function_imports_only_its_own_job(fn: template.Function) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(LAYER), str(fn.code_dir)]),
        "POWERTOOLS_SERVICE_NAME": "toggl-connection",
    }
    out = subprocess.run(
        [sys.executable, "-c", SNIPPET.format(module=fn.module)], env=env, capture_output=True, text=True, check=True
    ).stdout
    loaded = set(json.loads(out)) & JOBS
    own = [job for job in loaded if loaded == {job} | NEEDS.get(job, set())]
    assert len(own) == 1, f"{fn.logical_id} imports the jobs {sorted(loaded)}: one job per function"
