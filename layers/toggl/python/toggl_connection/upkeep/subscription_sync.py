"""Toggl's webhook subscriptions made to match the plan (``subscription_plan``), and checked.

- ``sync``: idempotent (a second run changes nothing). The owner mark is the stack's name,
  account and region, so two stacks of the same name never touch each other's subscriptions.
  Subscriptions marked the old way (``"<stack name>: "``) that point at this stack's URL are
  adopted (renamed) once. The plan's limit counts the token user's *enabled* subscriptions
  only, as Toggl's Webhooks document says. A filter Toggl refuses ("Invalid value ... for event
  filter") is dropped and the sync goes on with the rest.
- ``check``: the cheap look (one request) the health function takes before deciding to sync.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from toggl_connection.core.errors import TogglFailure, TogglInvalidRequest
from toggl_connection.core.integers import ascii_int
from toggl_connection.core.observability import logger
from toggl_connection.toggl import whoami
from toggl_connection.toggl.client import TogglClient
from toggl_connection.upkeep.subscription_plan import (
    Desired,
    Filter,
    Layout,
    counts_wildcards,
    covered,
    differs,
    offered_filters,
    owns,
    plan,
    plan_limit,
    refused_filters,
)
from toggl_connection.webhooks.triggers import ANY_EVENT_PATH, FALLBACKS, TRIGGERS

WEBHOOKS = "/webhooks/api/v1"
DEFAULT_NAME = "toggl-connection"
_ENABLED_LIMIT = re.compile(r"reached the limit of \d+ enabled subscriptions", re.IGNORECASE)


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
    not_offered: list[str] = field(default_factory=list)
    polled: list[str] = field(default_factory=list)  # not subscribed: a scheduled job reads them
    dropped_filters: list[str] = field(default_factory=list)  # refused by Toggl: "entity/action"
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    toggl_requests: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.enabled or self.deleted)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _public(subscription: dict[str, Any]) -> dict[str, Any]:
    """What we show of a subscription: never its secret."""
    return {k: v for k, v in subscription.items() if k != "secret" and not k.startswith("_")}


class Subscriptions:
    def __init__(
        self, toggl: TogglClient, workspace_id: int, name: str = DEFAULT_NAME, legacy_name: str | None = None
    ) -> None:
        """``name``: the owner mark. ``legacy_name``: the stack's name alone, the mark of older
        versions; such subscriptions are ours only when they point at our URL."""
        self.toggl = toggl
        self.workspace_id = workspace_id
        self.name = name
        self.legacy_name = legacy_name if legacy_name and legacy_name != name else None

    def _adoptable(self, sub: dict[str, Any], base_url: str | None) -> bool:
        return bool(
            self.legacy_name
            and base_url
            and owns(self.legacy_name, sub)
            and not owns(self.name, sub)
            and str(sub.get("url_callback", "")).startswith(base_url.rstrip("/") + ANY_EVENT_PATH)
        )

    def _adopted(self, sub: dict[str, Any]) -> dict[str, Any]:
        """A subscription marked the old way, under our mark (renamed by the next update)."""
        assert self.legacy_name is not None
        rest = str(sub["description"])[len(self.legacy_name) + 2 :]
        return {**sub, "description": f"{self.name}: {rest}", "_old_description": sub["description"]}

    def listed(self) -> list[dict[str, Any]]:
        data = self.toggl.get(f"{WEBHOOKS}/subscriptions/{self.workspace_id}").data or []
        return [s for s in data if isinstance(s, dict)]

    def limits(self) -> tuple[int | None, int | None]:
        data = self.toggl.get(f"{WEBHOOKS}/limits/{self.workspace_id}").data or {}
        return plan_limit(data.get("max_webhooks")), plan_limit(data.get("max_events_per_webhook"))

    def offered(self) -> set[Filter] | None:
        return offered_filters(self.toggl.get(f"{WEBHOOKS}/event_filters").data)

    def user_id(self, existing: list[dict[str, Any]]) -> int | None:
        """The token's user: the creator of our subscriptions, else ``GET /me`` (once per container)."""
        for sub in existing:
            if owns(self.name, sub) and ascii_int(sub.get("user_id")) is not None:
                return ascii_int(sub.get("user_id"))
        return whoami.user_id(self.toggl)

    def layout(
        self, base_url: str, existing: list[dict[str, Any]], wildcards: bool = True, refused: Iterable[Filter] = ()
    ) -> Layout:
        max_webhooks, max_events = self.limits()
        offered = self.offered()
        if refused:
            offered = (offered if offered is not None else {(t.entity, t.action) for t in TRIGGERS}) - set(refused)
        me = self.user_id(existing) if max_webhooks is not None else None
        # Toggl's limit counts the user's enabled subscriptions; ours are re-planned, not counted.
        foreign = sum(
            1
            for s in existing
            if not owns(self.name, s) and s.get("enabled") and (me is None or ascii_int(s.get("user_id")) in (me, None))
        )
        return plan(base_url, self.name, max_webhooks, max_events, foreign, wildcards, offered)

    def sync(self, base_url: str, secret: str) -> Report:
        """Make our subscriptions match the plan's layout; validate them; report."""
        wildcards, refused = True, set[Filter]()
        earlier = Report(self.workspace_id)  # what passes that ended in a refusal did
        for _ in range(len(TRIGGERS) + 2):  # each refusal drops something: this ends
            report = Report(self.workspace_id)
            try:
                self._sync(report, base_url, secret, wildcards, refused)
                break
            except TogglInvalidRequest as refusal:
                for done in ("created", "updated", "enabled", "deleted"):
                    getattr(earlier, done).extend(getattr(report, done))
                if wildcards and counts_wildcards(refusal.message):
                    logger.warning("Toggl counts wildcard filters as several events; using explicit filters")
                    wildcards = False
                    continue
                dropped = refused_filters(refusal.message, refused)
                if not dropped:
                    raise
                logger.warning("Toggl refused an event filter; going on without it", extra={"filters": dropped})
                refused |= dropped
        else:  # pragma: no cover - every pass drops a filter or switches off wildcards
            raise TogglInvalidRequest("Toggl kept refusing the subscriptions' event filters.")
        changed = set(earlier.created + earlier.updated + earlier.enabled)
        report.unchanged = [d for d in report.unchanged if d not in changed]
        for done in ("created", "updated", "enabled", "deleted"):
            setattr(report, done, getattr(earlier, done) + getattr(report, done))
        report.dropped_filters = sorted(f"{e}/{a}" for e, a in refused)
        return report

    def _sync(self, report: Report, base_url: str, secret: str, wildcards: bool, refused: set[Filter]) -> None:
        existing = [self._adopted(s) if self._adoptable(s, base_url) else s for s in self.listed()]
        layout = self.layout(base_url, existing, wildcards, refused)
        report.layout, report.not_fitted, report.not_offered = layout.describe(), layout.not_fitted, layout.not_offered
        ours = {s["description"]: s for s in existing if owns(self.name, s)}
        wanted = {d.description: d for d in layout.subscriptions}

        # Free the plan's slots first: a layout change may need them.
        for description, sub in ours.items():
            if description not in wanted:
                self.toggl.request("DELETE", f"{WEBHOOKS}/subscriptions/{self.workspace_id}/{sub['subscription_id']}")
                report.deleted.append(description)
        for desired in wanted.values():
            try:
                done = self._apply(desired, ours.get(desired.description), secret)
            except TogglInvalidRequest as refusal:
                if not _ENABLED_LIMIT.search(refusal.message):
                    raise
                # The plan's limit is reached after all (another client of the same user): say so.
                logger.warning("Toggl's webhook limit is reached", extra={"description": desired.description})
                report.not_fitted += [dt for dt in desired.covers if dt not in report.not_fitted]
            else:
                getattr(report, done).append(desired.description)
        report.polled = [t for t in report.not_fitted + report.not_offered if t in FALLBACKS]
        self._validate(report, wanted, existing)

    def _apply(self, desired: Desired, current: dict[str, Any] | None, secret: str) -> str:
        """Make one subscription of ours match ``desired``; what was done: ``created``,
        ``updated``, ``enabled`` or ``unchanged`` (the report's list it belongs in)."""
        body = {
            "url_callback": desired.url_callback,
            "event_filters": desired.event_filters,
            "enabled": True,
            "description": desired.description,
            "secret": secret,
        }
        if current is None:
            self.toggl.post(f"{WEBHOOKS}/subscriptions/{self.workspace_id}", body)
            return "created"
        if differs(current, desired, secret):
            path = f"{WEBHOOKS}/subscriptions/{self.workspace_id}/{current['subscription_id']}"
            self.toggl.request("PUT", path, body=body)
            if "_old_description" in current:
                logger.info("adopted a subscription marked the old way", extra={"description": desired.description})
            return "updated"
        if not current.get("enabled"):
            self._enable(current)
            return "enabled"
        return "unchanged"

    def _enable(self, sub: dict[str, Any]) -> None:
        path = f"{WEBHOOKS}/subscriptions/{self.workspace_id}/{sub['subscription_id']}"
        self.toggl.request("PATCH", path, body={"enabled": True})

    def _validate(self, report: Report, wanted: dict[str, Desired], before: list[dict[str, Any]]) -> None:
        """Confirm ``validated_at``; PING what is not (the receiver echoes the code and calls
        the validation URL); report what stays unvalidated. Nothing changed and everything
        validated already: no second look."""
        current = [s for s in before if owns(self.name, s)]
        if report.changed or any(not s.get("validated_at") for s in current):
            current = self._ours()
        pending = [s for s in current if s["description"] in wanted and not s.get("validated_at")]
        if pending:
            self._ping(pending)
            current = self._ours()
        report.unvalidated = sorted(s["description"] for s in current if not s.get("validated_at"))
        report.subscriptions = [_public(s) for s in current]
        report.toggl_requests = self.toggl.requests_made

    def _ours(self) -> list[dict[str, Any]]:
        return [s for s in self.listed() if owns(self.name, s)]

    def _ping(self, subscriptions: list[dict[str, Any]]) -> None:
        """PING each (Toggl then delivers the validation event); a failed PING is only logged:
        the report says what stays unvalidated."""
        for sub in subscriptions:
            try:
                self.toggl.post(f"{WEBHOOKS}/ping/{self.workspace_id}/{sub['subscription_id']}", None)
            except TogglFailure as failure:
                logger.warning("ping failed", extra={"description": sub["description"], "reason": failure.message})

    def check(self, base_url: str, known: Iterable[str] = ()) -> tuple[list[dict[str, Any]], list[str]]:
        """Our subscriptions and what is wrong with them, in one request (no limits read).
        ``known``: triggers the last sync could not subscribe (not fitted, not offered)."""
        listed = self.listed()
        ours = [s for s in listed if owns(self.name, s)]
        problems = [f"{s['description']}: marked the old way" for s in listed if self._adoptable(s, base_url)]
        base = base_url.rstrip("/")
        for sub in ours:
            if not sub.get("enabled"):
                problems.append(f"{sub['description']}: disabled")
            if not sub.get("validated_at"):
                problems.append(f"{sub['description']}: not validated")
            if not str(sub.get("url_callback", "")).startswith(base + ANY_EVENT_PATH):
                problems.append(f"{sub['description']}: points at {sub.get('url_callback')}")
        found = covered(ours)
        missing = [t.detail_type for t in TRIGGERS if t.detail_type not in found and t.detail_type not in set(known)]
        if missing:
            problems.append(f"not covered: {', '.join(missing)}")
        return ours, problems

    def delete(self, base_url: str | None = None) -> list[str]:
        """Delete our subscriptions (and only ours: with ``base_url``, also ours marked the old way)."""
        deleted = []
        for sub in self.listed():
            if owns(self.name, sub) or self._adoptable(sub, base_url):
                self.toggl.request("DELETE", f"{WEBHOOKS}/subscriptions/{self.workspace_id}/{sub['subscription_id']}")
                deleted.append(str(sub["description"]))
        return deleted
