"""toggl-connection: the command line for what Toggl's pages make users click by hand, and for
asking whether the set-up is healthy.

    toggl-connection subscriptions sync     create or update the webhook subscriptions
    toggl-connection subscriptions status   show them and what is wrong with them
    toggl-connection subscriptions delete   delete ours (never anyone else's)
    toggl-connection doctor                 check the whole set-up, one line per check
    toggl-connection agent-schema           the agent tools for MCP, Bedrock Agents or AgentCore Gateway

Every option can also come from the environment; --stack reads a deployed stack's outputs (API
URL, secret ARNs, owner mark) so that nothing has to be copied by hand. Every mistake is one or
two lines on stderr and a non-zero exit (2), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from functools import cache
from typing import Any, NoReturn, TextIO

from toggl_connection.core.errors import ConnectionFailure
from toggl_connection.core.integers import ascii_int
from toggl_connection.core.observability import logger
from toggl_connection.core.secrets import SigningSecrets, api_token
from toggl_connection.core.settings import DEFAULT_TOGGL_API_URL
from toggl_connection.toggl import whoami
from toggl_connection.toggl.client import TogglClient, clean_text
from toggl_connection.upkeep.subscription_sync import DEFAULT_NAME, Report, Subscriptions
from toggl_connection_cli import doctor

CLI_DEADLINE_SECONDS = 300
PROG = "toggl-connection"


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """Two lines, not the whole usage: what is wrong, and where to read more."""
        raise UsageError(f"{message}\n(see {self.prog} --help)")


def _options(command: argparse.ArgumentParser) -> None:
    env = os.environ.get
    command.add_argument("--stack", default=env("STACK_NAME"), help="read the rest from this stack's outputs")
    command.add_argument(
        "--region", default=None, help="the stack's AWS region (default: AWS_REGION or your profile's)"
    )
    command.add_argument("--api-url", default=env("TOGGL_API_URL"), help=f"Toggl (default {DEFAULT_TOGGL_API_URL})")
    command.add_argument(
        "--token-secret-id",
        default=env("TOGGL_API_TOKEN_SECRET_ID"),
        help="Secrets Manager id of the API token (or set TOGGL_API_TOKEN)",
    )
    command.add_argument(
        "--workspace-id",
        default=env("TOGGL_WORKSPACE_ID") or env("DEFAULT_WORKSPACE_ID"),
        help="default: your default workspace",
    )
    command.add_argument(
        "--webhook-base-url",
        default=env("WEBHOOK_BASE_URL"),
        help="the deployed API's base URL; the routes are appended",
    )
    command.add_argument(
        "--secret-id",
        default=env("WEBHOOK_SECRET_ID"),
        help="Secrets Manager id of the signing secret (or set TOGGL_WEBHOOK_SECRET)",
    )
    command.add_argument(
        "--name",
        default=env("SUBSCRIPTION_NAME") or DEFAULT_NAME,
        help="the mark in our subscriptions' descriptions (with --stack: the stack's)",
    )
    command.add_argument("--json", action="store_true", help="machine-readable output")


def parser() -> argparse.ArgumentParser:
    top = _Parser(
        prog=PROG,
        description=__doc__.split("\n\n")[0].replace("\n", " "),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    area = top.add_subparsers(dest="area", metavar="command", required=True)
    subs = area.add_parser("subscriptions", help="the Toggl webhook subscriptions")
    commands = subs.add_subparsers(dest="command", metavar="action", required=True)
    for name, text in (
        ("sync", "create or update the subscriptions for the seven triggers, within the plan's limits"),
        ("status", "show our subscriptions and what is wrong with them"),
        ("delete", "delete our subscriptions (and no others)"),
    ):
        _options(commands.add_parser(name, help=text, description=text))
    check = area.add_parser(
        "doctor",
        help="check the whole set-up: token, plan, subscriptions, quota, stack",
        description="Check the whole set-up; exit 0 only when every check passes.",
    )
    _options(check)
    schema = area.add_parser(
        "agent-schema",
        help="print the agent tools for MCP, Bedrock Agents or AgentCore",
        description="Print the tools as agent platforms take them (no AWS, no Toggl)",
    )
    schema.add_argument(
        "--format",
        choices=("mcp", "bedrock", "agentcore"),
        default="mcp",
        help="mcp: the tools/list result; bedrock: an action group's functionSchema; agentcore: a "
        "Lambda target's inlinePayload",
    )
    schema.add_argument(
        "--read-only",
        action="store_true",
        default=os.environ.get("AGENT_TOOLS_READ_ONLY") == "true",
        help="the read tools only (as AgentToolsReadOnly=true serves them)",
    )
    schema.add_argument(
        "--allow-delete",
        action="store_true",
        default=os.environ.get("AGENT_TOOLS_ALLOW_DELETE") == "true",
        help="with toggl_delete_time_entry (as AgentToolsAllowDelete=true serves it)",
    )
    return top


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("toggl-track-connection")
    except PackageNotFoundError:  # the layer on its own, not installed as a package
        return "unknown"


def _agent_schema(args: argparse.Namespace, out: TextIO) -> int:
    from toggl_connection.agents import tool_list

    document: Any
    if args.format == "bedrock":
        document = tool_list.bedrock_function_schema(args.read_only, args.allow_delete)
    elif args.format == "agentcore":
        document = tool_list.agentcore_tools(args.read_only, args.allow_delete)
    else:
        document = {"tools": tool_list.mcp_tools(args.read_only, args.allow_delete)}
    print(json.dumps(document, indent=2), file=out)
    return 0


# --- AWS, only with --stack ----------------------------------------------------------------------
def _aws(args: argparse.Namespace) -> Callable[[str], Any]:
    import boto3

    # botocore reads AWS_DEFAULT_REGION and profiles; AWS_REGION (what Lambda and other SDKs use) too.
    region = args.region or os.environ.get("AWS_REGION") or None
    session = boto3.session.Session(region_name=region)

    @cache
    def client(service: str) -> Any:
        return session.client(service)  # type: ignore[call-overload]

    return client


def _stack_outputs(args: argparse.Namespace) -> dict[str, str]:
    from botocore.exceptions import ClientError

    try:
        described = _aws(args)("cloudformation").describe_stacks(StackName=args.stack)["Stacks"][0]
    except ClientError as exc:
        if "does not exist" in str(exc.response.get("Error", {}).get("Message", "")):
            raise UsageError(f"there is no stack named {args.stack!r} in this account and region") from None
        raise
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def _resolve(args: argparse.Namespace) -> dict[str, str]:
    outputs: dict[str, str] = {}
    if args.stack:
        outputs = _stack_outputs(args)
        args.webhook_base_url = args.webhook_base_url or outputs.get("ApiBaseUrl")
        args.secret_id = args.secret_id or outputs.get("WebhookSecretArn")
        args.token_secret_id = args.token_secret_id or outputs.get("TogglApiTokenSecretArn")
        if args.name == DEFAULT_NAME:
            args.name = outputs.get("SubscriptionOwner") or args.stack
    args.api_url = (args.api_url or DEFAULT_TOGGL_API_URL).rstrip("/")
    if args.workspace_id is not None and not ascii_int(args.workspace_id):
        raise UsageError(f"--workspace-id must be a workspace id (digits), not {args.workspace_id!r}")
    return outputs


def _token(args: argparse.Namespace) -> str:
    if os.environ.get("TOGGL_API_TOKEN"):
        return os.environ["TOGGL_API_TOKEN"]
    if args.token_secret_id:
        return api_token(args.token_secret_id, max_age=5)
    raise UsageError("no Toggl API token: set TOGGL_API_TOKEN, or pass --token-secret-id (or --stack)")


def _secret(args: argparse.Namespace) -> str:
    if os.environ.get("TOGGL_WEBHOOK_SECRET"):
        return os.environ["TOGGL_WEBHOOK_SECRET"]
    if args.secret_id:
        return SigningSecrets(args.secret_id, max_age=5).current()
    raise UsageError("no signing secret: set TOGGL_WEBHOOK_SECRET, or pass --secret-id (or --stack)")


def _workspace(toggl: TogglClient, args: argparse.Namespace) -> int:
    workspace = ascii_int(args.workspace_id) or whoami.default_workspace_id(toggl)
    if not workspace:
        raise UsageError("no workspace: pass --workspace-id")
    return workspace


# --- the commands --------------------------------------------------------------------------------
def _print_report(report: Report, out: TextIO) -> None:
    print(f"Workspace {report.workspace_id}: {report.layout}", file=out)
    for label, names in (
        ("created", report.created),
        ("updated", report.updated),
        ("re-enabled", report.enabled),
        ("deleted", report.deleted),
        ("unchanged", report.unchanged),
    ):
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


def _status(subs: Subscriptions, args: argparse.Namespace, out: TextIO) -> int:
    ours, problems = subs.check(args.webhook_base_url or "")
    for sub in ours:
        sub.pop("secret", None)
    if args.json:
        print(
            json.dumps({"workspace_id": subs.workspace_id, "subscriptions": ours, "problems": problems}, indent=2),
            file=out,
        )
        return 0 if not problems else 1
    print(f"Workspace {subs.workspace_id}: {len(ours)} subscription(s) marked {args.name}:", file=out)
    for sub in ours:
        state = ("enabled" if sub.get("enabled") else "DISABLED") + (
            ", validated" if sub.get("validated_at") else ", NOT VALIDATED"
        )
        filters = ", ".join(f"{f.get('entity')}/{f.get('action')}" for f in sub.get("event_filters") or [])
        print(f"  {sub['description']}: {state}; {filters} -> {sub.get('url_callback')}", file=out)
    print("  problems: " + ("; ".join(problems) if problems else "none"), file=out)
    return 0 if not problems else 1


def _doctor(subs: Subscriptions, args: argparse.Namespace, outputs: dict[str, str], out: TextIO) -> int:
    checks = doctor.toggl_checks(subs, args.webhook_base_url)
    if args.stack:
        checks += doctor.stack_checks(outputs, _aws(args))
    result = doctor.report(checks)
    if args.json:
        print(json.dumps(result, indent=2), file=out)
    else:
        for check in checks:
            print(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}", file=out)
        print("healthy" if result["ok"] else "not healthy: see the FAIL lines", file=out)
    return 0 if result["ok"] else 1


def run(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = parser().parse_args(argv)
    if args.area == "agent-schema":
        return _agent_schema(args, out)
    outputs = _resolve(args)
    toggl = TogglClient(args.api_url, _token(args), deadline=time.monotonic() + CLI_DEADLINE_SECONDS)
    if args.area == "doctor":
        try:
            workspace = _workspace(toggl, args)
        except ConnectionFailure:
            workspace = 0  # the token check says why
        return _doctor(Subscriptions(toggl, workspace, args.name, legacy_name=args.stack), args, outputs, out)
    subs = Subscriptions(toggl, _workspace(toggl, args), args.name, legacy_name=args.stack)
    if args.command == "sync":
        if not args.webhook_base_url:
            raise UsageError("no webhook base URL: pass --webhook-base-url (or --stack)")
        report = subs.sync(args.webhook_base_url, _secret(args))
        if args.json:
            print(json.dumps(report.as_dict(), indent=2), file=out)
        else:
            _print_report(report, out)
        return 0 if not report.unvalidated else 1
    if args.command == "status":
        return _status(subs, args, out)
    deleted = subs.delete(args.webhook_base_url)
    text = json.dumps({"deleted": deleted}) if args.json else "\n".join(f"deleted {d}" for d in deleted)
    print(text or "nothing to delete", file=out)
    return 0


def explain(error: BaseException) -> str:
    """One or two lines for a mistake: what went wrong and what to do."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    if isinstance(error, UsageError | ConnectionFailure):
        return str(error)
    if isinstance(error, NoRegionError):
        return "no AWS region: pass --region, or set AWS_REGION (or a region in your AWS profile)"
    if isinstance(error, NoCredentialsError):
        return (
            "no AWS credentials: run aws configure, set AWS_PROFILE, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"AWS refused: {details.get('Code')}: {clean_text(str(details.get('Message')))}"
    if isinstance(error, BotoCoreError):
        return f"AWS could not be reached: {clean_text(str(error))}"
    return f"unexpected error: {type(error).__name__}: {clean_text(str(error))}"


def main(argv: list[str] | None = None) -> None:
    # The functions' structured logs would mix with this tool's output: warnings only, on stderr.
    logger.registered_handler.setStream(sys.stderr)  # type: ignore[attr-defined]
    logger.setLevel(os.environ.get("TOGGL_CONNECTION_LOG_LEVEL", "WARNING"))
    try:
        code = run(argv)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        code = 130
    except Exception as error:  # noqa: BLE001 - every mistake is a line, never a traceback
        print(f"{PROG}: {explain(error)}", file=sys.stderr)
        code = 2
    sys.exit(code)
