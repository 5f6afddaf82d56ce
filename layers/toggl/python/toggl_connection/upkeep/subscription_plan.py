"""Which Toggl webhook subscriptions cover the triggers, within the plan's limits: pure, no
request made (the sync in ``subscription_sync`` reads Toggl and applies it).

- ``plan``: one subscription per trigger route when the plan allows it; otherwise the triggers
  Toggl offers (``GET /event_filters``) are packed onto ``POST /webhooks`` with action wildcards
  (``time_entry/*`` is three triggers in one filter) into as few subscriptions as fit. A trigger
  Toggl does not offer or the plan cannot fit is left to a scheduled job (``triggers.FALLBACKS``)
  and reported, never an error.
- Only subscriptions whose description starts with ``"<owner>: "`` are ours (``owns``); the
  owner mark is the stack's name, account and region (``owner_mark``).
- What Toggl's refusals of a filter mean for the next plan (``refused_filters``,
  ``counts_wildcards``), and whether a subscription differs from the plan (``differs``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from toggl_connection.webhooks.triggers import ANY_EVENT_PATH, FALLBACKS, TRIGGERS, Trigger

# Toggl's refusal of a filter it does not offer ("Invalid value 'created' for event filter action").
_INVALID_FILTER = re.compile(r"invalid value '([^']*)' for (?:the )?(?:event )?filter (entity|action)", re.IGNORECASE)


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
        polled = [t for t in self.not_fitted + self.not_offered if t in FALLBACKS]
        if polled:
            text += f"; polled instead: {', '.join(f'{t} ({FALLBACKS[t].describe()})' for t in polled)}"
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
    slots, per_sub = _room(max_webhooks) - foreign, _room(max_events)
    if slots >= len(wanted) and per_sub >= 1:
        return Layout("per-trigger", [_per_trigger(base, name, t) for t in wanted], [], not_offered)
    if slots <= 0 or per_sub <= 0:
        return Layout("none", [], [t.detail_type for t in wanted], not_offered)
    return _packed(base, name, wanted, slots, per_sub, wildcards, not_offered)


def _room(limit: int | None) -> int:
    return limit if limit is not None else 10**6  # no limit


def _packed(
    base: str, name: str, wanted: list[Trigger], slots: int, per_sub: int, wildcards: bool, not_offered: list[str]
) -> Layout:
    """``wanted`` packed onto the any-event route: as few subscriptions as the filters need, at
    most ``slots``, of at most ``per_sub`` filters each; what does not fit is said."""
    filters = _packed_filters(wanted, wildcards)
    count = min(math.ceil(len(filters) / per_sub), slots)
    chunks = [filters[i * per_sub : (i + 1) * per_sub] for i in range(count)]
    subscriptions = [
        Desired(
            description=f"{name}: all events" if count == 1 else f"{name}: events {i + 1} of {count}",
            url_callback=base + ANY_EVENT_PATH,
            event_filters=[dict(f) for f, _ in chunk],
            covers=tuple(dt for _, covers in chunk for dt in covers),
        )
        for i, chunk in enumerate(chunks)
    ]
    fitted = {dt for desired in subscriptions for dt in desired.covers}
    not_fitted = [t.detail_type for t in wanted if t.detail_type not in fitted]
    return Layout("packed" if wildcards else "packed (explicit filters)", subscriptions, not_fitted, not_offered)


def _per_trigger(base: str, name: str, trigger: Trigger) -> Desired:
    return Desired(
        description=f"{name}: {trigger.detail_type}",
        url_callback=base + trigger.path,
        event_filters=[{"entity": trigger.entity, "action": trigger.action}],
        covers=(trigger.detail_type,),
    )


def refused_filters(message: str, already: set[Filter]) -> set[Filter]:
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


def counts_wildcards(message: str) -> bool:
    """Toggl refused a subscription for having too many event filters ("The limit of 3 event
    filters for your subscription has been exceeded ...", or other words to that effect)."""
    text = message.lower()
    return "event" in text and any(word in text for word in ("at most", "limit", "maximum", "exceed", "too many"))


def plan_limit(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def differs(current: dict[str, Any], desired: Desired, secret: str) -> bool:
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
