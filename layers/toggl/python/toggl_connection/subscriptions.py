"""Toggl webhook subscriptions set up and kept working for the user, within the plan's limits.

- ``plan``: which subscriptions cover the seven triggers. One per trigger route when the plan
  allows it; otherwise the triggers are packed onto ``POST /webhooks`` with action wildcards
  (``time_entry/*`` is three triggers in one filter) into as few subscriptions as fit.
- ``sync``: makes Toggl's subscriptions match the plan. Idempotent: a second run changes
  nothing. Only subscriptions whose description starts with ``"<name>: "`` are ours; others
  are never touched (but they do use up the plan's webhooks).
- ``check``: the cheap look (one request) the health function takes before deciding to sync.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

from toggl_connection.errors import TogglFailure, TogglInvalidRequest
from toggl_connection.observability import logger
from toggl_connection.toggl_api import TogglClient
from toggl_connection.triggers import ANY_EVENT_PATH, TRIGGERS, Trigger

WEBHOOKS = "/webhooks/api/v1"
DEFAULT_NAME = "toggl-connection"
# Packing order: what users most rely on first, when not everything fits.
PACKED_FILTERS = (
    ({"entity": "time_entry", "action": "*"}, ("Time Entry Created", "Time Entry Updated", "Time Entry Deleted")),
    ({"entity": "project", "action": "*"}, ("Project Created", "Project Updated", "Project Deleted")),
    ({"entity": "workspace", "action": "created"}, ("Workspace Created",)),
)


# If Toggl counts a wildcard filter as every event it matches (undocumented), packing falls
# back to one explicit filter per trigger.
EXPLICIT_FILTERS = tuple(({"entity": t.entity, "action": t.action}, (t.detail_type,)) for t in TRIGGERS)
# What the last sync in this container could not fit, by (Toggl URL, workspace, name): the
# health check does not sync again for those alone.
_not_fitted: dict[tuple[str, int, str], frozenset[str]] = {}


class Desired(NamedTuple):
    description: str
    url_callback: str
    event_filters: list[dict[str, str]]
    covers: tuple[str, ...]


class Layout(NamedTuple):
    kind: str  # "per-trigger", "packed" or "none"
    subscriptions: list[Desired]
    not_fitted: list[str]

    def describe(self) -> str:
        covered = sum(len(d.covers) for d in self.subscriptions)
        text = f"{self.kind} layout: {len(self.subscriptions)} subscription(s) covering {covered} of 7 triggers"
        if self.not_fitted:
            text += f"; could not fit: {', '.join(self.not_fitted)}"
        return text


def owns(name: str, subscription: dict[str, Any]) -> bool:
    return str(subscription.get("description", "")).startswith(f"{name}: ")


def plan(
    base_url: str,
    name: str,
    max_webhooks: int | None,
    max_events: int | None,
    foreign: int = 0,
    wildcards: bool = True,
) -> Layout:
    """The subscriptions that cover the triggers within ``max_webhooks`` (less ``foreign`` ones
    already there) of at most ``max_events`` filters each. ``None`` means no limit.
    ``wildcards=False``: one filter per trigger, for a Toggl that counts ``time_entry/*`` as three."""
    base = base_url.rstrip("/")
    slots = (max_webhooks if max_webhooks is not None else 10**6) - foreign
    per_sub = max_events if max_events is not None else 10**6
    if slots >= len(TRIGGERS) and per_sub >= 1:
        return Layout(
            "per-trigger",
            [_per_trigger(base, name, trigger) for trigger in TRIGGERS],
            [],
        )
    if slots <= 0 or per_sub <= 0:
        return Layout("none", [], [t.detail_type for t in TRIGGERS])
    filters = list(PACKED_FILTERS if wildcards else EXPLICIT_FILTERS)
    needed = math.ceil(len(filters) / per_sub)
    count = min(needed, slots)
    chunks = [filters[i * per_sub : (i + 1) * per_sub] for i in range(count)]
    fitted = [f for chunk in chunks for f in chunk]
    not_fitted = [dt for f, covers in filters if (f, covers) not in fitted for dt in covers]
    subscriptions = [
        Desired(
            description=f"{name}: all events" if count == 1 else f"{name}: events {i + 1} of {count}",
            url_callback=base + ANY_EVENT_PATH,
            event_filters=[dict(f) for f, _ in chunk],
            covers=tuple(dt for _, covers in chunk for dt in covers),
        )
        for i, chunk in enumerate(chunks)
    ]
    return Layout("packed" if wildcards else "packed (explicit filters)", subscriptions, not_fitted)


def _per_trigger(base: str, name: str, trigger: Trigger) -> Desired:
    return Desired(
        description=f"{name}: {trigger.detail_type}",
        url_callback=base + trigger.path,
        event_filters=[{"entity": trigger.entity, "action": trigger.action}],
        covers=(trigger.detail_type,),
    )


@dataclass
class Report:
    workspace_id: int
    layout: str = ""
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    enabled: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    unvalidated: list[str] = field(default_factory=list)
    not_fitted: list[str] = field(default_factory=list)
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    toggl_requests: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.enabled or self.deleted)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _public(subscription: dict[str, Any]) -> dict[str, Any]:
    """What we show of a subscription: never its secret."""
    return {k: v for k, v in subscription.items() if k != "secret"}


class Subscriptions:
    def __init__(self, toggl: TogglClient, workspace_id: int, name: str = DEFAULT_NAME) -> None:
        self.toggl = toggl
        self.workspace_id = workspace_id
        self.name = name

    def listed(self) -> list[dict[str, Any]]:
        data = self.toggl.get(f"{WEBHOOKS}/subscriptions/{self.workspace_id}").data or []
        return [s for s in data if isinstance(s, dict)]

    def limits(self) -> tuple[int | None, int | None]:
        data = self.toggl.get(f"{WEBHOOKS}/limits/{self.workspace_id}").data or {}
        return _limit(data.get("max_webhooks")), _limit(data.get("max_events_per_webhook"))

    def layout(self, base_url: str, existing: list[dict[str, Any]], wildcards: bool = True) -> Layout:
        max_webhooks, max_events = self.limits()
        foreign = sum(1 for s in existing if not owns(self.name, s))
        return plan(base_url, self.name, max_webhooks, max_events, foreign, wildcards)

    def sync(self, base_url: str, secret: str) -> Report:
        """Make our subscriptions match the plan's layout; validate them; report."""
        try:
            report = self._sync(base_url, secret, wildcards=True)
        except TogglInvalidRequest as refusal:
            if not _counts_wildcards(refusal.message):
                raise
            logger.warning("Toggl counts wildcard filters as several events; using explicit filters")
            report = self._sync(base_url, secret, wildcards=False)
        _not_fitted[(self.toggl.base_url, self.workspace_id, self.name)] = frozenset(report.not_fitted)
        return report

    def _sync(self, base_url: str, secret: str, wildcards: bool) -> Report:
        report = Report(self.workspace_id)
        existing = self.listed()
        layout = self.layout(base_url, existing, wildcards)
        report.layout, report.not_fitted = layout.describe(), layout.not_fitted
        ours = {s["description"]: s for s in existing if owns(self.name, s)}
        wanted = {d.description: d for d in layout.subscriptions}

        # Free the plan's slots first: a layout change may need them.
        for description, sub in ours.items():
            if description not in wanted:
                self.toggl.request("DELETE", f"{WEBHOOKS}/subscriptions/{self.workspace_id}/{sub['subscription_id']}")
                report.deleted.append(description)
        for description, desired in wanted.items():
            body = {
                "url_callback": desired.url_callback, "event_filters": desired.event_filters, "enabled": True,
                "description": description, "secret": secret,
            }  # fmt: skip
            current = ours.get(description)
            if current is None:
                self.toggl.post(f"{WEBHOOKS}/subscriptions/{self.workspace_id}", body, retry_ambiguous=False)
                report.created.append(description)
            elif _differs(current, desired, secret):
                path = f"{WEBHOOKS}/subscriptions/{self.workspace_id}/{current['subscription_id']}"
                self.toggl.request("PUT", path, body=body)
                report.updated.append(description)
            elif not current.get("enabled"):
                self._enable(current)
                report.enabled.append(description)
            else:
                report.unchanged.append(description)
        self._validate(report, wanted)
        return report

    def _enable(self, sub: dict[str, Any]) -> None:
        path = f"{WEBHOOKS}/subscriptions/{self.workspace_id}/{sub['subscription_id']}"
        self.toggl.request("PATCH", path, body={"enabled": True})

    def _validate(self, report: Report, wanted: dict[str, Desired]) -> None:
        """Confirm ``validated_at``; PING what is not (the receiver echoes the code and calls
        the validation URL); report what stays unvalidated."""
        current = [s for s in self.listed() if owns(self.name, s)]
        pending = [s for s in current if s["description"] in wanted and not s.get("validated_at")]
        if pending:
            for sub in pending:
                try:
                    self.toggl.post(f"{WEBHOOKS}/ping/{self.workspace_id}/{sub['subscription_id']}", None)
                except TogglFailure as failure:
                    logger.warning("ping failed", extra={"description": sub["description"], "reason": failure.message})
            current = [s for s in self.listed() if owns(self.name, s)]
        report.unvalidated = sorted(s["description"] for s in current if not s.get("validated_at"))
        report.subscriptions = [_public(s) for s in current]
        report.toggl_requests = self.toggl.requests_made

    def check(self, base_url: str) -> tuple[list[dict[str, Any]], list[str]]:
        """Our subscriptions and what is wrong with them, in one request (no limits read)."""
        ours = [s for s in self.listed() if owns(self.name, s)]
        problems = []
        covered = set()
        base = base_url.rstrip("/")
        for sub in ours:
            if not sub.get("enabled"):
                problems.append(f"{sub['description']}: disabled")
            if not sub.get("validated_at"):
                problems.append(f"{sub['description']}: not validated")
            if not str(sub.get("url_callback", "")).startswith(base + ANY_EVENT_PATH):
                problems.append(f"{sub['description']}: points at {sub.get('url_callback')}")
            for f in sub.get("event_filters") or []:
                for trigger in TRIGGERS:
                    if f.get("entity") in (trigger.entity, "*") and f.get("action") in (trigger.action, "*"):
                        covered.add(trigger.detail_type)
        known = _not_fitted.get((self.toggl.base_url, self.workspace_id, self.name), frozenset())
        missing = [t.detail_type for t in TRIGGERS if t.detail_type not in covered and t.detail_type not in known]
        if missing:
            problems.append(f"not covered: {', '.join(missing)}")
        return ours, problems

    def delete(self) -> list[str]:
        """Delete our subscriptions (and only ours)."""
        deleted = []
        for sub in self.listed():
            if owns(self.name, sub):
                self.toggl.request("DELETE", f"{WEBHOOKS}/subscriptions/{self.workspace_id}/{sub['subscription_id']}")
                deleted.append(str(sub["description"]))
        return deleted


def _counts_wildcards(message: str) -> bool:
    """Toggl refused a subscription for having too many events (its exact words are unknown)."""
    text = message.lower()
    return "event" in text and any(word in text for word in ("at most", "limit", "maximum", "exceed", "too many"))


def _limit(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _differs(current: dict[str, Any], desired: Desired, secret: str) -> bool:
    filters = sorted((f.get("entity"), f.get("action")) for f in current.get("event_filters") or [])
    wanted = sorted((f["entity"], f["action"]) for f in desired.event_filters)
    # Toggl lists the secret with the subscription; if it ever stops, we cannot compare it.
    secret_changed = "secret" in current and current["secret"] != secret
    return bool(current.get("url_callback") != desired.url_callback or filters != wanted or secret_changed)
