"""The sandbox's in-memory Toggl account: organizations, workspaces, users and what lives in
them. Plain dictionaries of Toggl-shaped objects, keyed by id."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

PLAN_QUOTA = {"free": 30, "starter": 240, "premium": 600, "enterprise": 600}


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


@dataclass
class World:
    organizations: dict[int, dict[str, Any]] = field(default_factory=dict)
    workspaces: dict[int, dict[str, Any]] = field(default_factory=dict)
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    workspace_users: dict[int, set[int]] = field(default_factory=dict)
    clients: dict[int, dict[str, Any]] = field(default_factory=dict)
    projects: dict[int, dict[str, Any]] = field(default_factory=dict)
    project_users: dict[int, dict[str, Any]] = field(default_factory=dict)
    tasks: dict[int, dict[str, Any]] = field(default_factory=dict)
    tags: dict[int, dict[str, Any]] = field(default_factory=dict)
    time_entries: dict[int, dict[str, Any]] = field(default_factory=dict)
    invitations: dict[int, dict[str, Any]] = field(default_factory=dict)
    # Deleted entities by kind ("time_entry", "project"), with ``server_deleted_at`` set: what a
    # ``since`` read returns besides the live ones ("including deleted ones", say the documents).
    deleted: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    emails_sent: list[str] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(100001))

    def next_id(self) -> int:
        return next(self._ids)

    def user_by_token(self, token: str) -> dict[str, Any] | None:
        return next((u for u in self.users.values() if u["api_token"] == token), None)

    def add_organization(self, name: str, plan: str = "premium", ident: int | None = None) -> dict[str, Any]:
        org: dict[str, Any] = {
            "id": ident or self.next_id(),
            "name": name,
            "plan": plan,
            "created_at": now(),
            "at": now(),
        }
        self.organizations[org["id"]] = org
        return org

    def add_workspace(self, organization_id: int, name: str, ident: int | None = None) -> dict[str, Any]:
        ws: dict[str, Any] = {
            "id": ident or self.next_id(),
            "organization_id": organization_id,
            "name": name,
            "premium": self.plan(organization_id) != "free",
            "admin": True,
            "default_currency": "USD",
            "at": now(),
            "api_token": "workspace-api-token-never-leaves",
        }
        self.workspaces[ws["id"]] = ws
        self.workspace_users.setdefault(ws["id"], set())
        return ws

    def add_user(
        self, email: str, name: str, token: str, workspace_ids: list[int], ident: int | None = None
    ) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": ident or self.next_id(),
            "email": email,
            "fullname": name,
            "api_token": token,
            "default_workspace_id": workspace_ids[0] if workspace_ids else None,
            "timezone": "UTC",
            "at": now(),
        }
        self.users[user["id"]] = user
        for wid in workspace_ids:
            self.workspace_users.setdefault(wid, set()).add(user["id"])
        return user

    def add_time_entry(
        self,
        workspace_id: int,
        user_id: int,
        start: str = "2026-12-01T09:00:00Z",
        duration: int = 3600,
        ident: int | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A time entry put straight into the account, as Toggl stores one (no request, no
        webhook): finished after ``duration`` seconds, or running when ``duration`` is negative."""
        begun = datetime.fromisoformat(start)
        running = duration < 0
        entry: dict[str, Any] = {
            "id": ident or self.next_id(),
            "workspace_id": workspace_id,
            "wid": workspace_id,
            "user_id": user_id,
            "uid": user_id,
            "project_id": None,
            "task_id": None,
            "description": "",
            "billable": False,
            "tags": [],
            "tag_ids": [],
            "start": begun.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "stop": None if running else (begun + timedelta(seconds=duration)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "duration": -int(begun.timestamp()) if running else duration,
            "duronly": True,
            "at": begun.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "server_deleted_at": None,
            **fields,
        }
        self.time_entries[entry["id"]] = entry
        return entry

    def delete(self, kind: str, collection: dict[int, dict[str, Any]], ident: int) -> dict[str, Any]:
        """Remove an entity, keeping its tombstone for ``since`` reads."""
        entity = collection.pop(ident)
        stamp = now()
        tombstone = {**entity, "server_deleted_at": stamp, "at": stamp}
        self.deleted.setdefault(kind, {})[ident] = tombstone
        return tombstone

    def plan(self, organization_id: int) -> str:
        return str(self.organizations[organization_id]["plan"])

    def organization_of(self, workspace_id: int) -> int:
        return int(self.workspaces[workspace_id]["organization_id"])

    def can_see(self, user_id: int, workspace_id: int) -> bool:
        return user_id in self.workspace_users.get(workspace_id, set())


@dataclass
class Seeded:
    """What ``seed`` made, for tests and the local stack's "what you can do now"."""

    world: World
    token: str
    organization: dict[str, Any]
    workspace: dict[str, Any]
    owner: dict[str, Any]
    member: dict[str, Any]
    client: dict[str, Any]
    project: dict[str, Any]


# When the seeded account's things were made: well before anything a test or make run does.
SEEDED_AT = "2026-01-05T09:00:00+00:00"


def seed(token: str = "sandbox-api-token", plan: str = "premium") -> Seeded:  # noqa: S107 - a sandbox token
    """A small realistic account: one organization, a workspace, two users, a client, a project."""
    # The ids of the sample deliveries and events/, so that they line up with this account.
    world = World()
    org = world.add_organization("Acme Studio", plan, ident=7000001)
    ws = world.add_workspace(org["id"], "Acme Studio", ident=7435584)
    owner = world.add_user("owner@acme.example", "Olivia Owner", token, [ws["id"]], ident=9547721)
    member = world.add_user("dev@acme.example", "Dev Eloper", "sandbox-member-token", [ws["id"]], ident=9547722)
    client = {
        "id": world.next_id(),
        "wid": ws["id"],
        "name": "Globex",
        "archived": False,
        "at": SEEDED_AT,
        "notes": None,
        "external_reference": None,
        "creator_id": owner["id"],
    }
    world.clients[client["id"]] = client
    project = {
        "id": 203881520,
        "workspace_id": ws["id"],
        "wid": ws["id"],
        "client_id": client["id"],
        "cid": client["id"],
        "name": "Website",
        "active": True,
        "is_private": True,
        "billable": True,
        "color": "#0b83d9",
        "at": SEEDED_AT,
        "created_at": SEEDED_AT,
    }
    world.projects[project["id"]] = project
    pu = {
        "id": world.next_id(),
        "project_id": project["id"],
        "user_id": owner["id"],
        "workspace_id": ws["id"],
        "manager": True,
        "rate": None,
        "labor_cost": None,
        "at": SEEDED_AT,
    }
    world.project_users[pu["id"]] = pu
    return Seeded(world, token, org, ws, owner, member, client, project)
