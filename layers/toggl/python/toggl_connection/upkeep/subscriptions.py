"""Toggl webhook subscriptions set up and kept working for the user, within the plan's limits.

- ``plan``: which subscriptions cover the triggers Toggl offers (``GET /event_filters``). One per
  trigger route when the plan allows it; otherwise the triggers are packed onto
  ``POST /webhooks`` with action wildcards (``time_entry/*`` is three triggers in one filter)
  into as few subscriptions as fit. A trigger Toggl does not offer is left to polling (the
  workspace poller for Workspace Created) and reported, never an error.
- ``sync``: makes Toggl's subscriptions match the plan. Idempotent: a second run changes
  nothing. Only subscriptions whose description starts with ``"<owner>: "`` are ours; the owner
  mark is the stack's name, account and region, so two stacks of the same name never touch each
  other's. Subscriptions marked the old way (``"<stack name>: "``) that point at this stack's
  URL are adopted (renamed) once. The plan's limit counts the token user's *enabled*
  subscriptions only, as Toggl's Webhooks document says. A filter Toggl refuses ("Invalid value
  ... for event filter") is dropped and the sync goes on with the rest.
- ``check``: the cheap look (one request) the health function takes before deciding to sync.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

from toggl_connection.core.errors import TogglFailure, TogglInvalidRequest
from toggl_connection.core.integers import ascii_int
from toggl_connection.core.observability import logger
from toggl_connection.toggl import whoami
from toggl_connection.toggl.client import TogglClient
from toggl_connection.webhooks.triggers import ANY_EVENT_PATH, POLLED, TRIGGERS, Trigger

WEBHOOKS = "/webhooks/api/v1"
DEFAULT_NAME = "toggl-connection"
# Toggl's refusal of a filter it does not offer ("Invalid value 'created' for event filter action").
_INVALID_FILTER = re.compile(r"invalid value '([^']*)' for (?:the )?(?:event )?filter (entity|action)", re.IGNORECASE)
_ENABLED_LIMIT = re.compile(r"reached the limit of \d+ enabled subscriptions", re.IGNORECASE)


class Desired(NamedTuple):
    description: str
    url_callback: str
    event_filters: list[dict[str, str]]
    covers: tuple[str, ...]


class Layout(NamedTuple):
    kind: str  # "per-trigger", "packed" or "none"
    subscriptions: list[Desired]
    not_fitted: list[str]
    not_offered: list[str] = []

    def describe(self) -> str:
        covered = sum(len(d.covers) for d in self.subscriptions)
        text = f"{self.kind} layout: {len(self.subscriptions)} subscription(s) covering {covered} of 7 triggers"
        if self.not_fitted:
            text += f"; could not fit: {', '.join(self.not_fitted)}"
        if self.not_offered:
            text += f"; not offered by Toggl: {', '.join(self.not_offered)}"
        polled = [t for t in self.not_fitted + self.not_offered if t in POLLED]
        if polled:
            text += f"; polled instead: {', '.join(f'{t} ({POLLED[t]})' for t in polled)}"
        return text


def owns(name: str, subscription: dict[str, Any]) -> bool:
    return str(subscription.get("description", "")).startswith(f"{name}: ")


def owner_mark(stack_name: str, account: str | None, region: str | None) -> str:
    """What marks a stack's subscriptions: its name, account and region (unique together)."""
    return f"{stack_name} ({account}/{region})" if account and region else stack_name


Filter = tuple[str, str]


def offered_filters(listing: Any) -> set[Filter] | None:
    """The (entity, action) pairs ``GET /event_filters`` offers; None when it said nothing usable
    (then every trigger is tried, and a refusal drops what Toggl will not take)."""
    if not isinstance(listing, Mapping) or not listing:
        return None
    return {
        (str(entity), str(action))
        for entity, actions in listing.items()
        if isinstance(actions, list)
        for action in actions
    }


def _is_offered(trigger: Trigger, offered: set[Filter] | None) -> bool:
    if offered is None:
        return True
    return bool({(trigger.entity, trigger.action), (trigger.entity, "*"), ("*", trigger.action), ("*", "*")} & offered)


def _packed_filters(triggers: list[Trigger], wildcards: bool) -> list[tuple[dict[str, str], tuple[str, ...]]]:
    """Filters for ``triggers`` in their order: an entity with several triggers gets one
    ``entity/*`` filter when ``wildcards`` (it then also matches that entity's other actions,
    which the any-event route publishes under their own types)."""
    filters: list[tuple[dict[str, str], tuple[str, ...]]] = []
    for entity in dict.fromkeys(t.entity for t in triggers):
        mine = [t for t in triggers if t.entity == entity]
        if wildcards and len(mine) > 1:
            filters.append(({"entity": entity, "action": "*"}, tuple(t.detail_type for t in mine)))
        else:
            filters += [({"entity": t.entity, "action": t.action}, (t.detail_type,)) for t in mine]
    return filters


def plan(
    base_url: str,
    name: str,
    max_webhooks: int | None,
    max_events: int | None,
    foreign: int = 0,
    wildcards: bool = True,
    offered: set[Filter] | None = None,
) -> Layout:
    """The subscriptions that cover the offered triggers within ``max_webhooks`` (less
    ``foreign``: the user's other enabled subscriptions) of at most ``max_events`` filters each.
    ``None`` means no limit. ``wildcards=False``: one filter per trigger, for a Toggl that counts
    ``time_entry/*`` as three."""
    base = base_url.rstrip("/")
    wanted = [t for t in TRIGGERS if _is_offered(t, offered)]
    not_offered = [t.detail_type for t in TRIGGERS if t not in wanted]
    slots = (max_webhooks if max_webhooks is not None else 10**6) - foreign
    per_sub = max_events if max_events is not None else 10**6
    if slots >= len(wanted) and per_sub >= 1:
        return Layout("per-trigger", [_per_trigger(base, name, t) for t in wanted], [], not_offered)
    if slots <= 0 or per_sub <= 0:
        return Layout("none", [], [t.detail_type for t in wanted], not_offered)
    filters = _packed_filters(wanted, wildcards)
    count = min(math.ceil(len(filters) / per_sub), slots)
    chunks = [filters[i * per_sub : (i + 1) * per_sub] for i in range(count)]
    fitted = {dt for chunk in chunks for _, covers in chunk for dt in covers}
    subscriptions = [
        Desired(
            description=f"{name}: all events" if count == 1 else f"{name}: events {i + 1} of {count}",
            url_callback=base + ANY_EVENT_PATH,
            event_filters=[dict(f) for f, _ in chunk],
            covers=tuple(dt for _, covers in chunk for dt in covers),
        )
        for i, chunk in enumerate(chunks)
    ]
    not_fitted = [t.detail_type for t in wanted if t.detail_type not in fitted]
    return Layout("packed" if wildcards else "packed (explicit filters)", subscriptions, not_fitted, not_offered)


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
    not_offered: list[str] = field(default_factory=list)
    polled: list[str] = field(default_factory=list)  # not subscribed, but found by polling
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
        return _limit(data.get("max_webhooks")), _limit(data.get("max_events_per_webhook"))

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
                if wildcards and _counts_wildcards(refusal.message):
                    logger.warning("Toggl counts wildcard filters as several events; using explicit filters")
                    wildcards = False
                    continue
                dropped = _refused_filters(refusal.message, refused)
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
        for description, desired in wanted.items():
            body = {
                "url_callback": desired.url_callback,
                "event_filters": desired.event_filters,
                "enabled": True,
                "description": description,
                "secret": secret,
            }
            current = ours.get(description)
            try:
                if current is None:
                    self.toggl.post(f"{WEBHOOKS}/subscriptions/{self.workspace_id}", body)
                    report.created.append(description)
                elif _differs(current, desired, secret):
                    path = f"{WEBHOOKS}/subscriptions/{self.workspace_id}/{current['subscription_id']}"
                    self.toggl.request("PUT", path, body=body)
                    report.updated.append(description)
                    if "_old_description" in current:
                        logger.info("adopted a subscription marked the old way", extra={"description": description})
                elif not current.get("enabled"):
                    self._enable(current)
                    report.enabled.append(description)
                else:
                    report.unchanged.append(description)
            except TogglInvalidRequest as refusal:
                if not _ENABLED_LIMIT.search(refusal.message):
                    raise
                # The plan's limit is reached after all (another client of the same user): say so.
                logger.warning("Toggl's webhook limit is reached", extra={"description": description})
                report.not_fitted += [dt for dt in desired.covers if dt not in report.not_fitted]
        polled = [t for t in report.not_fitted + report.not_offered if t in POLLED]
        report.polled = polled
        self._validate(report, wanted, existing)

    def _enable(self, sub: dict[str, Any]) -> None:
        path = f"{WEBHOOKS}/subscriptions/{self.workspace_id}/{sub['subscription_id']}"
        self.toggl.request("PATCH", path, body={"enabled": True})

    def _validate(self, report: Report, wanted: dict[str, Desired], before: list[dict[str, Any]]) -> None:
        """Confirm ``validated_at``; PING what is not (the receiver echoes the code and calls
        the validation URL); report what stays unvalidated. Nothing changed and everything
        validated already: no second look."""
        current = [s for s in before if owns(self.name, s)]
        if report.changed or any(not s.get("validated_at") for s in current):
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


def _refused_filters(message: str, already: set[Filter]) -> set[Filter]:
    """The trigger filters a refusal "Invalid value 'x' for event filter action|entity" is about:
    those of our triggers with that value, the lowest-priority one (Workspace Created first)."""
    match = _INVALID_FILTER.search(message)
    if not match:
        return set()
    value, part = match.group(1), match.group(2).lower()
    if value == "*":
        return set()  # wildcards refused: the explicit-filter layout handles that
    candidates = [(t.entity, t.action) for t in TRIGGERS if getattr(t, part) == value]
    candidates = [c for c in candidates if c not in already]
    return {candidates[-1]} if candidates else set()


def _counts_wildcards(message: str) -> bool:
    """Toggl refused a subscription for having too many event filters ("The limit of 3 event
    filters for your subscription has been exceeded ...", or other words to that effect)."""
    text = message.lower()
    return "event" in text and any(word in text for word in ("at most", "limit", "maximum", "exceed", "too many"))


def _limit(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _differs(current: dict[str, Any], desired: Desired, secret: str) -> bool:
    if "_old_description" in current:
        return True  # to be renamed to our mark
    filters = sorted((f.get("entity"), f.get("action")) for f in current.get("event_filters") or [])
    wanted = sorted((f["entity"], f["action"]) for f in desired.event_filters)
    # Toggl lists the secret with the subscription; if it ever stops, we cannot compare it.
    secret_changed = "secret" in current and current["secret"] != secret
    return bool(current.get("url_callback") != desired.url_callback or filters != wanted or secret_changed)


def covered(subscriptions: Iterable[dict[str, Any]]) -> set[str]:
    """The triggers (detail types) these subscriptions' event filters match."""
    found = set()
    for sub in subscriptions:
        for f in sub.get("event_filters") or []:
            for trigger in TRIGGERS:
                if f.get("entity") in (trigger.entity, "*") and f.get("action") in (trigger.action, "*"):
                    found.add(trigger.detail_type)
    return found
