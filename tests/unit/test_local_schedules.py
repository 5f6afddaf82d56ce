"""make run's schedules, read from local/commands/local_stack.py and the template: they spend
Toggl's hourly quota no faster than a deployed stack, and docs/local.md says what they spend."""

from __future__ import annotations

import os
import re

import pytest

from local.commands.demo import DEMO_ME_REQUESTS
from local.emulator.template import ROOT

LOCAL_PAGE = (ROOT / "docs" / "local.md").read_text()


def test_the_local_schedules_spend_the_quota_no_faster_than_the_deployed_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from local.commands.local_stack import SCHEDULES, Options, deployed_period_seconds

    for name in [n for n in os.environ if n.startswith("TOGGL_LOCAL_")]:
        monkeypatch.delenv(name)

    options = Options.from_environment()  # what make run takes when nothing is set
    local = {
        "WorkspacePollerFunction": options.poll_seconds,
        "CatchUpFunction": options.catch_up_seconds,
        "SubscriptionHealthFunction": options.health_seconds,
    }
    assert set(local) == set(SCHEDULES)
    assert all(local[job] >= deployed_period_seconds(job) for job in SCHEDULES), local
    # the two jobs that read /me (one request a run) leave most of Toggl's 30 an hour to everything else
    me_per_hour = 3600 / local["WorkspacePollerFunction"] + 3600 / local["CatchUpFunction"]
    assert me_per_hour + DEMO_ME_REQUESTS <= 30 / 2, me_per_hour
    said = re.search(r"\((\d+) of the 30\s+`/me`\s+requests an hour\)", LOCAL_PAGE)
    assert said and int(said.group(1)) == me_per_hour  # what docs/local.md says an idle make run spends
