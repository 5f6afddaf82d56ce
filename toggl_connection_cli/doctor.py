"""``toggl-connection doctor``: is the whole set-up healthy? One check per line, each saying what
it found; with a deployed stack, its outputs, secrets, alarms and dead letters too.

Toggl requests spent: four or five (``/me``, the workspace, the organizations, the limits, the
event filters and the subscriptions), none of them a change. Never prints the token or the
signing secret. Every check is always there: when Toggl cannot answer (down, quota used up,
token refused), the Toggl checks fail with the reason and the others still run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from toggl_connection.core.errors import ConnectionFailure, TogglTokenRejected
from toggl_connection.toggl import whoami
from toggl_connection.toggl.client import V9, Quota, TogglClient
from toggl_connection.upkeep.subscription_plan import covered
from toggl_connection.upkeep.subscription_sync import Subscriptions
from toggl_connection.webhooks.triggers import FALLBACKS, TRIGGERS

QUOTA_LOW = 5
REQUIRED_OUTPUTS = (
    "ApiBaseUrl",
    "WebhookSecretArn",
    "TogglApiTokenSecretArn",
    "SubscriptionOwner",
    "DeadLetterQueueUrl",
    "AlarmNamePrefix",
)
# What a stand-in for Toggl says of the hourly limits it plays, said by the quota check: make
# doctor sets it from the local sandbox (asked without spending quota). None for Toggl itself.
limits_in_force: str | None = None


class Check(NamedTuple):
    name: str
    ok: bool
    detail: str


SUBSCRIPTION_CHECKS = ("layout", "subscriptions", "triggers")


def toggl_checks(subs: Subscriptions, base_url: str | None) -> list[Check]:
    """What Toggl says: the token, the workspace and plan, the layout, our subscriptions, the quota."""
    toggl = subs.toggl
    token = _safely("token", lambda: _token(toggl))
    me_quota = toggl.quota  # the /me requests' own hourly quota (30 on every plan), as GET /me reported it
    if not token.ok:  # nothing more to ask Toggl: every Toggl check fails with the token's reason
        skipped = f"not checked: {token.detail}"
        return [
            token,
            *(Check(name, False, skipped) for name in ("workspace", *SUBSCRIPTION_CHECKS)),
            _quota(me_quota, toggl.quota, skipped),
        ]
    checks = [token, _safely("workspace", lambda: _workspace(toggl, subs.workspace_id))]
    if not base_url:
        missing = "no webhook base URL: pass --webhook-base-url (or --stack)"
        checks += [Check(name, False, missing) for name in SUBSCRIPTION_CHECKS]
    else:
        try:
            checks += _subscriptions(subs, base_url)
        except ConnectionFailure as failure:
            checks += [Check(name, False, failure.message) for name in SUBSCRIPTION_CHECKS]
    return [*checks, _quota(me_quota, toggl.quota, "Toggl sent no quota headers")]


def _token(toggl: TogglClient) -> Check:
    try:
        me = whoami.me(toggl)
    except TogglTokenRejected as refused:
        return Check(
            "token",
            False,
            f"Toggl refused the token (HTTP {refused.toggl_status}): put a valid Personal "
            "API Token in the token secret (or TOGGL_API_TOKEN)",
        )
    who = f"{me.get('fullname') or '?'} <{me.get('email') or '?'}>, user {me.get('id')}"
    return Check("token", True, f"accepted: {who}")


def _quota(me: Quota, last: Quota, unknown: str) -> Check:
    """The hourly quotas Toggl reported, and the limits in force when a stand-in says which."""
    check = _quota_left(me, last, unknown)
    return check._replace(detail=f"{check.detail}; {limits_in_force}") if limits_in_force else check


def _quota_left(me: Quota, last: Quota, unknown: str) -> Check:
    """The hourly quotas Toggl reported: the /me one (at GET /me) and the organization's (the last
    answer); ``unknown`` when Toggl reported none (a pass only when Toggl answered at all)."""
    reported = [(label, q) for label, q in (("/me", me), ("organization", last)) if q.remaining is not None]
    if me == last and reported:
        reported = reported[:1]  # only GET /me was answered
    if not reported:
        return Check("quota", not unknown.startswith("not checked"), unknown)
    detail = "; ".join(
        f"{label}: {q.remaining} request(s) left this hour, reset in {q.resets_in} s" for label, q in reported
    )
    return Check("quota", all(int(q.remaining or 0) >= QUOTA_LOW for _, q in reported), detail)


def _workspace(toggl: TogglClient, workspace_id: int) -> Check:
    workspace = toggl.get(f"{V9}/workspaces/{workspace_id}").data or {}
    organizations = toggl.get(f"{V9}/me/organizations").data or []
    plan = next(
        (
            o.get("pricing_plan_name")
            for o in organizations
            if isinstance(o, dict) and o.get("id") == workspace.get("organization_id")
        ),
        None,
    )
    role = workspace.get("role") or ("admin" if workspace.get("admin") else "member")
    detail = f"{workspace.get('name')!s} ({workspace_id}), plan {plan or 'unknown'}, your role: {role}"
    if role != "admin" and not workspace.get("admin"):
        return Check(
            "workspace", False, detail + " (subscriptions see only what their creator may see: use an admin's token)"
        )
    return Check("workspace", True, detail)


def _subscriptions(subs: Subscriptions, base_url: str) -> list[Check]:
    existing = subs.listed()
    layout = subs.layout(base_url, existing)
    checks = [Check("layout", layout.kind != "none", layout.describe())]
    gaps = set(layout.not_fitted + layout.not_offered)
    ours, problems = subs.check(base_url, gaps)
    if problems:
        checks.append(Check("subscriptions", False, "; ".join(problems)))
    else:
        checks.append(Check("subscriptions", True, f"{len(ours)} of ours, all enabled and validated, at {base_url}"))
    # What our subscriptions do not cover, whatever the reason (not fitted, not offered, not synced).
    gaps |= {t.detail_type for t in TRIGGERS} - covered(ours)
    checks.append(triggers_check(gaps))
    return checks


def triggers_check(gaps: set[str]) -> Check:
    """The triggers no subscription of ours covers (``gaps``), and what finds them instead: it
    passes when a scheduled job finds every change of each; the catch-up finds only the token
    user's time entries, so a time entry trigger left to it fails, saying what is missed."""
    unwatched = sorted(gaps - set(FALLBACKS))
    polled = sorted(gaps & set(FALLBACKS))
    ok = not unwatched and all(FALLBACKS[t].complete for t in polled)
    parts = [f"{t}: not subscribed" for t in unwatched] + [f"{t}: polled ({FALLBACKS[t].describe()})" for t in polled]
    detail = "; ".join((["every trigger is covered"] if ok else []) + ([", ".join(parts)] if parts else []))
    return Check("triggers", ok, detail)


def stack_checks(outputs: dict[str, str], aws: Callable[[str], Any]) -> list[Check]:
    """What the deployed stack says: its outputs, secrets, alarms and dead letters."""
    missing = [name for name in REQUIRED_OUTPUTS if not outputs.get(name)]
    checks = [
        Check(
            "stack outputs",
            not missing,
            f"missing: {', '.join(missing)}"
            if missing
            else f"{len(outputs)} outputs, API at {outputs.get('ApiBaseUrl')}",
        )
    ]
    for label, output in (("signing secret", "WebhookSecretArn"), ("token secret", "TogglApiTokenSecretArn")):
        if outputs.get(output):
            checks.append(_safely(label, _secret_check(aws, label, outputs[output])))
    if outputs.get("McpFunctionArn"):
        checks.append(_safely("agent tools", lambda: _agent_tools(aws, outputs["McpFunctionArn"])))
    if outputs.get("AlarmNamePrefix"):
        checks.append(_safely("alarms", lambda: _alarms(aws, outputs["AlarmNamePrefix"])))
    if outputs.get("DeadLetterQueueUrl"):
        checks.append(_safely("dead letters", lambda: _dead_letters(aws, outputs["DeadLetterQueueUrl"])))
    return checks


def _secret_check(aws: Callable[[str], Any], label: str, arn: str) -> Callable[[], Check]:
    return lambda: _secret(aws, label, arn)


def _secret(aws: Callable[[str], Any], label: str, arn: str) -> Check:
    described = aws("secretsmanager").describe_secret(SecretId=arn)
    if described.get("DeletedDate"):
        return Check(label, False, "scheduled for deletion")
    stages = [s for stages in (described.get("VersionIdsToStages") or {}).values() for s in stages]
    if "AWSCURRENT" not in stages:
        return Check(label, False, "has no current value")
    rotated = "AWSPREVIOUS" in stages
    return Check(label, True, "present" + (" (a previous version is kept: rotated)" if rotated else ""))


def _agent_tools(aws: Callable[[str], Any], arn: str) -> Check:
    """The agent tools function (MCP, Bedrock Agents, AgentCore Gateway): there, ready, and in which mode."""
    config = aws("lambda").get_function_configuration(FunctionName=arn)
    state = config.get("State") or "Active"
    if state != "Active":
        return Check("agent tools", False, f"the function is {state}: {config.get('StateReason') or 'see Lambda'}")
    variables = (config.get("Environment") or {}).get("Variables") or {}
    if variables.get("AGENT_TOOLS_READ_ONLY") == "true":
        mode = "reads only"
    elif variables.get("AGENT_TOOLS_ALLOW_DELETE") == "true":
        mode = "reads and writes, deleting time entries included"
    else:  # AgentToolsAllowDelete's default
        mode = "reads and writes, deleting time entries excepted"
    return Check("agent tools", True, f"ready ({mode}) on POST /mcp, for Bedrock Agents and AgentCore Gateway")


def _alarms(aws: Callable[[str], Any], prefix: str) -> Check:
    firing = aws("cloudwatch").describe_alarms(AlarmNamePrefix=prefix, StateValue="ALARM").get("MetricAlarms", [])
    names = sorted(a["AlarmName"] for a in firing)
    return Check("alarms", not names, f"in alarm: {', '.join(names)}" if names else "none in alarm")


def _dead_letters(aws: Callable[[str], Any], url: str) -> Check:
    attributes = aws("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    waiting = int(attributes["Attributes"]["ApproximateNumberOfMessages"])
    return Check("dead letters", waiting == 0, f"{waiting} message(s) waiting" if waiting else "the queue is empty")


def _safely(name: str, check: Callable[[], Check]) -> Check:
    """A check that could not be made is a failed check that says why, never a traceback."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return check()
    except ConnectionFailure as failure:
        return Check(name, False, failure.message)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        return Check(name, False, f"AWS said {error.get('Code')}: {error.get('Message')}")
    except BotoCoreError as exc:
        return Check(name, False, f"AWS could not be asked: {type(exc).__name__}")


def report(checks: list[Check]) -> dict[str, Any]:
    return {"ok": all(c.ok for c in checks), "checks": [c._asdict() for c in checks]}
