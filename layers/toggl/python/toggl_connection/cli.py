"""``toggl-connection``: the command line for what Toggl's docs make users click by hand.

    toggl-connection subscriptions sync     create or update the webhook subscriptions
    toggl-connection subscriptions status   show them and what is wrong with them
    toggl-connection subscriptions delete   delete ours (never anyone else's)

Every option can also come from the environment; ``--stack`` reads a deployed stack's outputs
(API URL, secret ARNs) so that nothing has to be copied by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any, TextIO

from toggl_connection import whoami
from toggl_connection.errors import ConnectionFailure
from toggl_connection.integers import ascii_int
from toggl_connection.observability import logger
from toggl_connection.secrets import SigningSecrets, api_token
from toggl_connection.settings import DEFAULT_TOGGL_API_URL
from toggl_connection.subscriptions import DEFAULT_NAME, Report, Subscriptions
from toggl_connection.toggl_api import TogglClient

CLI_DEADLINE_SECONDS = 300


class UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="toggl-connection", description=__doc__.split("\n\n")[0])
    groups = parser.add_subparsers(dest="group", required=True)
    subs = groups.add_parser("subscriptions", help="Toggl webhook subscriptions")
    commands = subs.add_subparsers(dest="command", required=True)
    for name, text in (
        ("sync", "create or update the subscriptions for the seven triggers, within the plan's limits"),
        ("status", "show our subscriptions and what is wrong with them"),
        ("delete", "delete our subscriptions (and no others)"),
    ):
        command = commands.add_parser(name, help=text, description=text)
        env = os.environ.get
        command.add_argument("--stack", default=env("STACK_NAME"), help="read the rest from this stack's outputs")
        command.add_argument("--api-url", default=env("TOGGL_API_URL"), help=f"Toggl (default {DEFAULT_TOGGL_API_URL})")
        command.add_argument("--token-secret-id", default=env("TOGGL_API_TOKEN_SECRET_ID"),
                             help="Secrets Manager id of the API token (or set TOGGL_API_TOKEN)")  # fmt: skip
        workspace = _int(env("TOGGL_WORKSPACE_ID") or env("DEFAULT_WORKSPACE_ID"))
        command.add_argument("--workspace-id", type=int, default=workspace, help="default: your default workspace")
        command.add_argument("--webhook-base-url", default=env("WEBHOOK_BASE_URL"),
                             help="the deployed API's base URL; the routes are appended")  # fmt: skip
        command.add_argument("--secret-id", default=env("WEBHOOK_SECRET_ID"),
                             help="Secrets Manager id of the signing secret (or set TOGGL_WEBHOOK_SECRET)")  # fmt: skip
        command.add_argument("--name", default=env("SUBSCRIPTION_NAME") or DEFAULT_NAME,
                             help="description prefix that marks our subscriptions")  # fmt: skip
        command.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def _int(value: str | None) -> int | None:
    return ascii_int(value)


def _stack_outputs(stack: str) -> dict[str, str]:
    import boto3

    described = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def _resolve(args: argparse.Namespace) -> None:
    if args.stack:
        outputs = _stack_outputs(args.stack)
        args.webhook_base_url = args.webhook_base_url or outputs.get("ApiBaseUrl")
        args.secret_id = args.secret_id or outputs.get("WebhookSecretArn")
        args.token_secret_id = args.token_secret_id or outputs.get("TogglApiTokenSecretArn")
        if args.name == DEFAULT_NAME:
            args.name = outputs.get("SubscriptionOwner") or args.stack
    args.api_url = (args.api_url or DEFAULT_TOGGL_API_URL).rstrip("/")


def _token(args: argparse.Namespace) -> str:
    if os.environ.get("TOGGL_API_TOKEN"):
        return os.environ["TOGGL_API_TOKEN"]
    if args.token_secret_id:
        return api_token(args.token_secret_id, max_age=5)
    raise UsageError("No Toggl API token: set TOGGL_API_TOKEN, or pass --token-secret-id (or --stack).")


def _secret(args: argparse.Namespace) -> str:
    if os.environ.get("TOGGL_WEBHOOK_SECRET"):
        return os.environ["TOGGL_WEBHOOK_SECRET"]
    if args.secret_id:
        return SigningSecrets(args.secret_id, max_age=5).current()
    raise UsageError("No signing secret: set TOGGL_WEBHOOK_SECRET, or pass --secret-id (or --stack).")


def _workspace(toggl: TogglClient, args: argparse.Namespace) -> int:
    workspace = args.workspace_id or whoami.default_workspace_id(toggl)
    if not workspace:
        raise UsageError("No workspace: pass --workspace-id.")
    return int(workspace)


def _print_report(report: Report, out: TextIO) -> None:
    print(f"Workspace {report.workspace_id}: {report.layout}", file=out)
    for label, names in (("created", report.created), ("updated", report.updated), ("re-enabled", report.enabled),
                         ("deleted", report.deleted), ("unchanged", report.unchanged)):  # fmt: skip
        for name in names:
            print(f"  {label:<10} {name}", file=out)
    if report.not_fitted:
        print(f"  NOT FITTED (the plan's webhook limits): {', '.join(report.not_fitted)}", file=out)
    if report.not_offered:
        print(f"  not offered by Toggl's event filters: {', '.join(report.not_offered)}", file=out)
    if report.polled:
        print(f"  polled instead of subscribed: {', '.join(report.polled)}", file=out)
    if report.unvalidated:
        print(f"  NOT VALIDATED: {', '.join(report.unvalidated)} (is the API deployed and reachable?)", file=out)
    else:
        print("  all validated", file=out)
    print(f"  ({report.toggl_requests} Toggl request(s))", file=out)


def run(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    _resolve(args)
    toggl = TogglClient(args.api_url, _token(args), deadline=time.monotonic() + CLI_DEADLINE_SECONDS)
    subs = Subscriptions(toggl, _workspace(toggl, args), args.name, legacy_name=args.stack)
    result: dict[str, Any]
    if args.command == "sync":
        if not args.webhook_base_url:
            raise UsageError("No webhook base URL: pass --webhook-base-url (or --stack).")
        report = subs.sync(args.webhook_base_url, _secret(args))
        if args.json:
            print(json.dumps(report.as_dict(), indent=2), file=out)
        else:
            _print_report(report, out)
        return 0 if not report.unvalidated else 1
    if args.command == "status":
        ours, problems = subs.check(args.webhook_base_url or "")
        result = {"workspace_id": subs.workspace_id, "subscriptions": ours, "problems": problems}
        for sub in result["subscriptions"]:
            sub.pop("secret", None)
        if args.json:
            print(json.dumps(result, indent=2), file=out)
        else:
            print(f"Workspace {subs.workspace_id}: {len(ours)} subscription(s) named {args.name}:", file=out)
            for sub in ours:
                state = ("enabled" if sub.get("enabled") else "DISABLED") + (
                    ", validated" if sub.get("validated_at") else ", NOT VALIDATED"
                )
                filters = ", ".join(f"{f.get('entity')}/{f.get('action')}" for f in sub.get("event_filters") or [])
                print(f"  {sub['description']}: {state}; {filters} -> {sub.get('url_callback')}", file=out)
            print("  problems: " + ("; ".join(problems) if problems else "none"), file=out)
        return 0 if not problems else 1
    deleted = subs.delete(args.webhook_base_url)
    print(
        json.dumps({"deleted": deleted})
        if args.json
        else "\n".join(f"deleted {d}" for d in deleted) or "nothing to delete",
        file=out,
    )
    return 0


def main(argv: list[str] | None = None) -> None:
    # The functions' structured logs would mix with this tool's output: warnings only, on stderr.
    logger.registered_handler.setStream(sys.stderr)  # type: ignore[attr-defined]
    logger.setLevel(os.environ.get("TOGGL_CONNECTION_LOG_LEVEL", "WARNING"))
    try:
        code = run(argv)
    except (UsageError, ConnectionFailure) as error:
        print(f"toggl-connection: {error}", file=sys.stderr)
        code = 2
    sys.exit(code)
