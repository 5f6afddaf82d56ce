"""``make bench``: measures the connection against its goals and against the simplest possible
implementation, prints a table and writes ``.bench/results.json``."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from local.emulator.template import ROOT

GOALS = {
    "cold_start_ratio": ("<=", 1.3),
    "warm_webhook_ratio": ("<=", 1.5),
    # Against the bare exactly-once floor: the same claim, PutEvents and "done" write in plain boto3.
    "warm_webhook_floor_ratio": ("<=", 1.10),
    "put_events_per_event": ("==", 1.0),
    "secret_fetches_per_1000_invocations": ("<=", 1),
    # Before the catch-up shared its records with the webhooks, a new event cost two writes (the
    # dedupe record put in progress, then completed); it still does.
    "webhook_dynamodb_writes_per_event": ("<=", 2.0),
    # One Toggl request per action on the happy path; a stop that finds the running timer first, two.
    "toggl_requests_per_action_max": ("<=", 1),
    "toggl_requests_stop_without_id": ("==", 2),
    # The agent tools: tools/list asks nothing of Toggl; a tool call on the happy path, one request.
    "mcp_toggl_requests_tools_list": ("==", 0),
    "mcp_toggl_requests_per_tool_call_max": ("<=", 1),
    # A warm tool call against the sandbox takes a few ms; one answer waiting on Nagle's algorithm
    # (the client's delayed ACK) took 40 ms more.
    "mcp_tool_call_warm_ms": ("<=", 10),
    # Reading on costs only the pages it needs; no answer passes Lambda's 6 MB (the stack's 1 MB).
    "mcp_toggl_requests_260_row_report_at_limit_50": ("<=", 6),
    "mcp_largest_answer_bytes": ("<=", 1_000_000),
}


def main() -> int:
    from bench import agents, catch_up, cold_start, sizes, toggl_requests, warm

    results: dict[str, Any] = {}
    print("cold start (fresh processes)...", file=sys.stderr)
    results.update(cold_start.measure())

    from local.emulator.moto_server import MotoServer

    moto = MotoServer(port=0).start()
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": moto.url,
            "POWERTOOLS_METRICS_NAMESPACE": "TogglConnection",
        }
    )
    try:
        from local.emulator.provision import provision
        from local.toggl_sandbox import deliveries

        token = "bench-token-not-a-secret"
        stack = provision(webhook_secret=deliveries.TEST_SECRET, api_token=token, tap=False)
        print("warm webhook invocations on moto (server mode)...", file=sys.stderr)
        results.update(warm.measure(stack.names))
        print("Toggl requests per action (sandbox)...", file=sys.stderr)
        results.update(toggl_requests.measure(stack.names, token))
        print("catch-up runs (sandbox)...", file=sys.stderr)
        results.update(catch_up.measure(stack.names, token))
        print("agent tools (MCP) warm, and Toggl requests per tool call (sandbox)...", file=sys.stderr)
        results.update(agents.measure(stack.names, token))
    finally:
        moto.stop()
    print("deployment sizes (layer built for arm64 / Python 3.13)...", file=sys.stderr)
    results.update(sizes.measure())

    out = ROOT / ".bench"
    out.mkdir(exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    return 0


def _ok(key: str, value: Any) -> str:
    if key not in GOALS or value is None:
        return ""
    op, goal = GOALS[key]
    met = value <= goal if op == "<=" else value == goal
    return f"{op} {goal}  {'met' if met else 'NOT MET'}"


def table(results: dict[str, Any]) -> str:
    rows = [
        (
            "cold_start_ratio",
            results["cold_start_ratio"],
            f"worst: {results['cold_start_worst_function']}; boto3 alone {results['cold_start_boto3_ms']} ms",
        ),
        ("  ms each handler adds to boto3", json.dumps(results["cold_start_import_ms"]), ""),
        ("  fresh import ms (all of it)", json.dumps(results["cold_start_fresh_import_ms"]), ""),
        ("  ratio by function", json.dumps(results["cold_start_ratio_by_function"]), ""),
        (
            "warm_webhook_ratio",
            results["warm_webhook_ratio"],
            f"{results['warm_webhook_ms']} ms - dedupe {results['warm_dedupe_ms']} ms vs "
            f"{results['warm_minimal_handler_ms']} ms minimal",
        ),
        ("  with dedupe", results["warm_webhook_ratio_with_dedupe"], ""),
        (
            "warm_webhook_floor_ratio",
            results["warm_webhook_floor_ratio"],
            f"{results['warm_webhook_ms']} ms vs {results['warm_floor_ms']} ms bare claim + publish + done",
        ),
        ("put_events_per_event", results["put_events_per_event"], ""),
        (
            "webhook_dynamodb_writes_per_event",
            results["webhook_dynamodb_writes_per_event"],
            f"reads {results['webhook_dynamodb_reads_per_event']}",
        ),
        ("catch_up_quiet_run", json.dumps(results["catch_up_quiet_run"]), ""),
        ("catch_up_run_with_six_changes", json.dumps(results["catch_up_run_with_six_changes"]), ""),
        ("secret_fetches_per_1000_invocations", results["secret_fetches_per_1000_invocations"], ""),
        (
            "toggl_requests_per_action",
            json.dumps(results["toggl_requests_per_action"]),
            f"first call: {json.dumps(results['toggl_requests_per_action_first_call'])}",
        ),
        ("toggl_requests_per_action_max", results["toggl_requests_per_action_max"], "a stop without an id aside"),
        ("toggl_requests_stop_without_id", results["toggl_requests_stop_without_id"], "finds the running timer"),
        (
            "mcp_toggl_requests_tools_list",
            results["mcp_toggl_requests_tools_list"],
            f"tools/list warm {results['mcp_tools_list_warm_ms']} ms",
        ),
        ("mcp_toggl_requests_per_tool_call_max", results["mcp_toggl_requests_per_tool_call_max"], ""),
        ("mcp_tool_call_warm_ms", results["mcp_tool_call_warm_ms"], "toggl_list_projects against the sandbox"),
        ("mcp_toggl_requests_260_row_report_at_limit_50", results["mcp_toggl_requests_260_row_report_at_limit_50"], ""),
        ("mcp_largest_answer_bytes", results["mcp_largest_answer_bytes"], "a report page, a batch of long lists"),
        ("layer_zip_bytes", results["layer_zip_bytes"], ""),
        ("function_zip_bytes (max)", max(results["function_zip_bytes"].values()), ""),
    ]
    lines = [f"{'metric':<38} {'value':<22} {'goal':<18} notes", "-" * 110]
    for key, value, note in rows:
        lines.append(f"{key:<38} {value!s:<22} {_ok(key.strip(), value):<18} {note}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
