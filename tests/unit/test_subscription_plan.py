"""The subscription layout, a pure function of the plan's limits and what Toggl offers: which
subscriptions cover the seven triggers, and what is said of the rest."""

from __future__ import annotations

import pytest

from tests.contract import TRIGGERS as CONTRACT_TRIGGERS
from toggl_connection.upkeep.subscription_plan import offered_filters, plan, refused_filters

ALL = CONTRACT_TRIGGERS


# --- the layout, for every plan ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("webhooks", "events", "foreign", "kind", "count", "not_fitted"),
    [
        (1, 3, 0, "packed", 1, []),  # Free
        (2, 6, 0, "packed", 1, []),  # Starter
        (3, 12, 0, "packed", 1, []),  # Premium
        (10, 50, 0, "per-trigger", 7, []),  # Enterprise (custom)
        (None, None, 0, "per-trigger", 7, []),  # no limits reported
        (3, 1, 0, "packed", 3, []),
        (2, 1, 0, "packed", 2, ["Workspace Created"]),
        (3, 12, 3, "none", 0, sorted(ALL)),  # every slot taken by someone else's webhooks
        (8, 12, 1, "per-trigger", 7, []),
        (7, 12, 1, "packed", 1, []),
    ],
)
def test_plan_fits_the_seven_triggers_into_the_limits(
    webhooks: int | None, events: int | None, foreign: int, kind: str, count: int, not_fitted: list[str]
) -> None:
    layout = plan("https://api.example/v1", "stack", webhooks, events, foreign)
    assert (layout.kind, len(layout.subscriptions), sorted(layout.not_fitted)) == (kind, count, not_fitted)
    covered = {dt for d in layout.subscriptions for dt in d.covers}
    assert covered | set(layout.not_fitted) == ALL
    for desired in layout.subscriptions:
        assert events is None or len(desired.event_filters) <= events
        assert desired.description.startswith("stack: ")
    if kind == "packed":
        assert {d.url_callback for d in layout.subscriptions} == {"https://api.example/v1/webhooks"}
        assert {"entity": "time_entry", "action": "*"} in layout.subscriptions[0].event_filters


def test_plan_without_wildcards_uses_one_filter_per_trigger() -> None:
    layout = plan("https://api.example/v1", "stack", 1, 3, wildcards=False)
    assert layout.kind == "packed (explicit filters)"
    (desired,) = layout.subscriptions
    assert desired.event_filters == [{"entity": "time_entry", "action": a} for a in ("created", "updated", "deleted")]
    assert sorted(layout.not_fitted) == sorted(ALL - {"Time Entry Created", "Time Entry Updated", "Time Entry Deleted"})
    assert len(plan("https://api.example/v1", "stack", 3, 12, wildcards=False).subscriptions) == 1


DOCUMENTED_LISTING = {
    "client": ["created", "updated", "deleted"],
    "project": ["created", "updated", "deleted"],
    "time_entry": ["created", "updated", "deleted"],
}


@pytest.mark.parametrize(("webhooks", "events", "kind", "count"), [(1, 3, "packed", 1), (10, 50, "per-trigger", 6)])
def test_a_trigger_toggl_does_not_offer_gets_no_subscription_and_is_said_to_be_polled(
    webhooks: int, events: int, kind: str, count: int
) -> None:
    layout = plan("https://api.example/v1", "stack", webhooks, events, offered=offered_filters(DOCUMENTED_LISTING))
    assert (layout.kind, len(layout.subscriptions), layout.not_offered) == (kind, count, ["Workspace Created"])
    assert not layout.not_fitted
    assert all(f["entity"] != "workspace" for d in layout.subscriptions for f in d.event_filters)
    assert "polled instead: Workspace Created (workspace poller)" in layout.describe()


def test_an_empty_or_strange_listing_offers_everything() -> None:
    assert offered_filters({}) is None and offered_filters(["time_entry"]) is None
    assert len(plan("https://x/v1", "s", 10, 50, offered=None).subscriptions) == 7


@pytest.mark.parametrize(
    ("message", "refused"),
    [
        ("Invalid value 'created' for event filter action", {("workspace", "created")}),
        ("invalid value 'workspace' for the filter entity", {("workspace", "created")}),
        ("Invalid value '*' for event filter action", set()),  # the explicit layout handles that
        ("Something else entirely", set()),
    ],
)
def test_a_refused_filter_names_the_lowest_priority_trigger(message: str, refused: set[tuple[str, str]]) -> None:
    assert refused_filters(message, set()) == refused


def test_filters_refused_one_after_the_other_each_drop_one_more() -> None:
    first = refused_filters("Invalid value 'created' for event filter action", set())
    second = refused_filters("Invalid value 'created' for event filter action", first)
    assert first == {("workspace", "created")} and second == {("project", "created")}


def test_every_trigger_has_a_fallback_and_only_the_time_entries_one_misses_something() -> None:
    from toggl_connection.webhooks.triggers import FALLBACKS, TRIGGERS

    assert list(FALLBACKS) == [t.detail_type for t in TRIGGERS]
    partial = sorted(t for t, fallback in FALLBACKS.items() if not fallback.complete)
    assert partial == ["Time Entry Created", "Time Entry Deleted", "Time Entry Updated"]
    assert FALLBACKS["Time Entry Updated"].describe() == "catch-up, which misses other users' time entries"
    assert FALLBACKS["Project Deleted"].describe() == "catch-up"


def test_what_the_plan_cannot_fit_is_said_to_be_found_by_the_job_that_finds_it() -> None:
    # Given one subscription of one filter, and a Toggl that counts wildcards as several events
    layout = plan("https://api.example", "stack", max_webhooks=1, max_events=1, wildcards=False)
    # Then each trigger left out names what finds it instead, and what that misses
    text = layout.describe()
    assert [d.covers for d in layout.subscriptions] == [("Time Entry Created",)]
    assert len(layout.not_fitted) == 6
    assert "Project Updated (catch-up)" in text
    assert "Time Entry Updated (catch-up, which misses other users' time entries)" in text
    assert "Workspace Created (workspace poller)" in text


@pytest.mark.parametrize(
    ("gaps", "ok", "says"),
    [
        (set(), True, ["every trigger is covered"]),
        ({"Workspace Created"}, True, ["Workspace Created: polled (workspace poller)"]),
        ({"Project Updated", "Project Deleted"}, True, ["Project Deleted: polled (catch-up)"]),
        (
            {"Time Entry Updated"},
            False,
            ["Time Entry Updated: polled (catch-up, which misses other users' time entries)"],
        ),
    ],
)
def test_doctor_passes_a_trigger_left_to_a_job_only_when_the_job_sees_every_change(
    gaps: set[str], ok: bool, says: list[str]
) -> None:
    from toggl_connection_cli.doctor import triggers_check

    check = triggers_check(gaps)
    assert check.ok is ok, check
    for text in says:
        assert text in check.detail
    assert "not subscribed" not in check.detail
    assert ("every trigger is covered" in check.detail) is ok
