"""What reading on costs: a tool's ``next_cursor`` carries Toggl's own position (the page, or the
report's cursor, and the items of it already read), so each page an agent reads costs the Toggl
pages it needs (at most ``ceil(limit / Toggl's page size) + 1``), never a re-read from the start.
Counted on the sandbox's record of requests."""

from __future__ import annotations

import math
from typing import Any

from tests.e2e.agents.conftest import AgentStack


def add_entries(agents: AgentStack, count: int) -> None:
    """Finished time entries of the token's user, put straight into the sandbox's account."""
    for number in range(count):
        agents.seeded.world.add_time_entry(
            agents.workspace_id, agents.seeded.owner["id"], "2026-11-02T09:00:00Z", 600, description=f"entry {number}"
        )


def read_every_page(agents: AgentStack, tool: str, arguments: dict[str, Any]) -> tuple[list[Any], list[int]]:
    """Every item, page by page, and the Toggl requests each page cost."""
    items: list[Any] = []
    costs: list[int] = []
    while True:
        before = len(agents.toggl.requests)
        answer = agents.call(tool, arguments)["structuredContent"]
        costs.append(len(agents.toggl.requests) - before)
        items += answer["items"]
        if answer["next_cursor"] is None:
            assert answer["truncated"] is False
            return items, costs
        arguments = {**arguments, "cursor": answer["next_cursor"]}


def test_every_page_of_a_260_row_report_costs_one_toggl_request(agents: AgentStack) -> None:
    add_entries(agents, 260)
    rows, costs = read_every_page(
        agents, "toggl_get_detailed_report", {"start_date": "2026-11-01", "end_date": "2026-11-30", "limit": 50}
    )
    # 260 rows in 6 pages of at most 50, each row once, 6 Toggl requests in all (it was 26)
    ids = [row["time_entries"][0]["id"] for row in rows]
    assert len(ids) == len(set(ids)) == 260
    assert costs == [1, 1, 1, 1, 1, 1]


def test_a_page_that_ends_inside_a_report_page_resumes_there(agents: AgentStack) -> None:
    add_entries(agents, 120)
    rows, costs = read_every_page(
        agents, "toggl_get_detailed_report", {"start_date": "2026-11-01", "end_date": "2026-11-30", "limit": 30}
    )
    assert len({row["time_entries"][0]["id"] for row in rows}) == len(rows) == 120
    assert max(costs) <= math.ceil(30 / 50) + 1 and sum(costs) <= 6


def test_deep_pages_of_projects_cost_the_pages_they_need(agents: AgentStack) -> None:
    world, wid = agents.seeded.world, agents.workspace_id
    for number in range(450):
        ident = world.next_id()
        world.projects[ident] = {
            **agents.seeded.project,
            "id": ident,
            "name": f"Project {number:03}",
            "workspace_id": wid,
        }
    names, costs = read_every_page(agents, "toggl_list_projects", {"limit": 50})
    assert len(names) == len({p["id"] for p in names}) == 451
    # Toggl's page holds 200 projects: a page of 50 costs one request, two where it crosses a page
    assert max(costs) <= math.ceil(50 / 200) + 1 and sum(costs) <= 13, costs
