"""Track API v9: the calls the actions make, and the entity changes the webhooks report.

Status codes, fields and error texts follow Toggl's documents (``documented``; a test holds the
sandbox to them). Where Toggl's behaviour is not documented (who may see a workspace, the text of
a plan 402, duplicate client names) the sandbox picks one, says so, and ``behaviour`` switches it.
"""

from __future__ import annotations

import re
from typing import Any

from local.toggl_sandbox.documented import V9
from local.toggl_sandbox.server import Request, TogglError, route
from local.toggl_sandbox.state import now

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
FREE_ACTIVE_USER_LIMIT = 5


def public(entity: dict[str, Any]) -> dict[str, Any]:
    """Most of Toggl's objects; the sandbox keeps ``api_token`` on workspaces to prove it is
    stripped by the connection, so only users' tokens are hidden here."""
    return dict(entity)


# Observed in public clients' reports when a Free workspace asks for a paid feature (tasks).
PLAN_402 = "Request tried to utilized Premium functionality on workspace which is not Premium!"


def workspace(req: Request, key: str = "workspace_id") -> dict[str, Any]:
    wid = int(req.args[key]) if req.args[key].isdigit() else 0
    ws = req.world.workspaces.get(wid)
    if ws is None or not req.world.can_see(req.user["id"], wid):
        raise req.refused(403, "Forbidden")  # the endpoint's documented 403
    return ws


def organization(req: Request, org: dict[str, Any]) -> dict[str, Any]:
    """An organization as GET /me/organizations lists it: the plan is ``pricing_plan_name``."""
    plan = str(org["plan"])
    return {
        "id": org["id"],
        "name": org["name"],
        "pricing_plan_name": plan.capitalize(),
        "pricing_plan_enterprise": plan == "enterprise",
        "admin": True,
        "owner": True,
        "created_at": org["created_at"],
        "at": org["at"],
        "user_count": len(_members(req, org["id"])),
    }


def _members(req: Request, oid: int) -> set[int]:
    """The users of the organization's workspaces, each once."""
    return {
        u
        for wid, users in req.world.workspace_users.items()
        if req.world.workspaces[wid]["organization_id"] == oid
        for u in users
    }


def body(req: Request) -> dict[str, Any]:
    if not isinstance(req.body, dict):
        raise TogglError(400, "Invalid JSON input", played=True)
    return req.body


def created(
    req: Request, collection: dict[int, dict[str, Any]], model: str, entity: dict[str, Any], workspace_id: int
) -> dict[str, Any]:
    """Store a new entity, tell the webhooks, and answer with it, as Toggl's create calls do."""
    collection[entity["id"]] = entity
    req.sandbox.emit(model, "created", entity, workspace_id, req)
    return entity


def int_field(data: dict[str, Any], name: str, message: str) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TogglError(400, message)
    return value


# --- me, organizations, workspaces ---------------------------------------------------------
@route("GET", V9 + "/me")
def me(req: Request) -> Any:
    user = {k: v for k, v in req.user.items() if k != "api_token"}
    return {**user, "api_token": req.user["api_token"]}  # Toggl returns the caller's own token


@route("GET", V9 + "/me/organizations")
def my_organizations(req: Request) -> Any:
    org_ids = {
        ws["organization_id"] for wid, ws in req.world.workspaces.items() if req.world.can_see(req.user["id"], wid)
    }
    return [organization(req, req.world.organizations[oid]) for oid in sorted(org_ids)]


@route("GET", V9 + "/me/workspaces")
def my_workspaces(req: Request) -> Any:
    return [public(ws) for wid, ws in sorted(req.world.workspaces.items()) if req.world.can_see(req.user["id"], wid)]


@route("GET", V9 + "/workspaces/{workspace_id}")
def get_workspace(req: Request) -> Any:
    return public(workspace(req))


# --- clients -------------------------------------------------------------------------------
@route("POST", V9 + "/workspaces/{workspace_id}/clients")
def create_client(req: Request) -> Any:
    ws, data = workspace(req), body(req)
    name = str(data.get("name") or "").strip()
    if not name:
        raise TogglError(400, "Client name cannot be empty")
    if len(name) > 100:
        raise TogglError(400, "Client name maximum length is 100 characters")
    duplicate = any(c["wid"] == ws["id"] and c["name"].lower() == name.lower() for c in req.world.clients.values())
    if duplicate and req.sandbox.behaviour.duplicate_client_names == "refused":
        raise TogglError(400, "Client with this name already exists", played=True)
    client = {
        "id": req.world.next_id(),
        "wid": ws["id"],
        "name": name,
        "archived": False,
        "at": now(),
        "notes": data.get("notes"),
        "external_reference": data.get("external_reference"),
        "creator_id": req.user["id"],
    }
    return created(req, req.world.clients, "client", client, ws["id"])


def in_workspace(
    collection: dict[int, dict[str, Any]], ident: Any, ws: dict[str, Any], status: int, message: str
) -> dict[str, Any]:
    """The entity ``ident`` of ``collection`` if it lives in ``ws``; else Toggl's error."""
    entity = collection.get(int(ident)) if str(ident).isdigit() else None
    if entity is None or entity["workspace_id"] != ws["id"]:
        raise TogglError(status, message)
    return entity


# --- projects ------------------------------------------------------------------------------
def project_in(req: Request, ws: dict[str, Any]) -> dict[str, Any]:
    return in_workspace(req.world.projects, req.args["project_id"], ws, 404, "Project not found/accessible")


@route("POST", V9 + "/workspaces/{workspace_id}/projects")
def create_project(req: Request) -> Any:
    ws, data = workspace(req), body(req)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise TogglError(400, "project name must not be empty", played=True)  # recorded, not documented
    name = name.strip()
    client_id = data.get("client_id", data.get("cid"))
    if req.sandbox.behaviour.duplicate_project_names == "refused" and _project_named(req, ws, name, client_id):
        raise TogglError(400, "Name has already been taken", played=True)
    client = req.world.clients.get(client_id) if isinstance(client_id, int) else None
    stamp = now()
    estimated = data.get("estimated_hours")
    active = data.get("active", True) is not False
    project = {
        "id": req.world.next_id(),
        "workspace_id": ws["id"],
        "wid": ws["id"],
        "client_id": client_id,
        "cid": client_id,
        "client_name": client["name"] if client else None,
        "name": name,
        "active": active,
        "status": "active" if active else "archived",
        "is_private": data.get("is_private", True) is not False,
        "billable": data.get("billable") is True,
        "color": data.get("color") or "#0b83d9",
        "template": data.get("template") is True,
        "template_id": data.get("template_id"),
        "auto_estimates": data.get("auto_estimates") is True,
        "estimated_hours": estimated,
        "estimated_seconds": estimated * 3600 if isinstance(estimated, int) else None,
        "rate": data.get("rate"),
        "rate_last_updated": None,
        "currency": data.get("currency"),
        "fixed_fee": data.get("fixed_fee"),
        "recurring": data.get("recurring") is True,
        "recurring_parameters": None,
        "actual_hours": 0,
        "actual_seconds": 0,
        "start_date": data.get("start_date") or stamp[:10],
        "end_date": data.get("end_date"),
        "can_track_time": True,
        "pinned": False,
        "at": stamp,
        "created_at": stamp,
        "server_deleted_at": None,
    }
    return created(req, req.world.projects, "project", project, ws["id"])


def _project_named(req: Request, ws: dict[str, Any], name: str, client_id: Any) -> bool:
    """Whether the workspace has a project of this name for this client, archived ones included."""
    return any(
        p["workspace_id"] == ws["id"] and p.get("client_id") == client_id and p["name"].casefold() == name.casefold()
        for p in req.world.projects.values()
    )


# --- tags ----------------------------------------------------------------------------------
def new_tag(req: Request, ws: dict[str, Any], name: str) -> dict[str, Any]:
    """A tag made in ``ws`` (by its create call, or by a time entry naming a tag that is not there)."""
    tag = {"id": req.world.next_id(), "workspace_id": ws["id"], "name": name, "at": now(), "creator_id": req.user["id"]}
    return created(req, req.world.tags, "tag", tag, ws["id"])


def tag_named(req: Request, ws: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((t for t in req.world.tags.values() if t["workspace_id"] == ws["id"] and t["name"] == name), None)


@route("POST", V9 + "/workspaces/{workspace_id}/tags")
def create_tag(req: Request) -> Any:
    ws = workspace(req)
    if not isinstance(req.body, dict):
        raise TogglError(400, "Invalid JSON input")
    name = req.body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise TogglError(400, "tag name can't be blank")
    name = name.strip()
    if tag_named(req, ws, name):
        raise TogglError(400, f"a tag with the name '{name}' already exists")
    tag = new_tag(req, ws, name)
    return [tag] if req.sandbox.behaviour.tag_answer == "array" else tag


@route("PUT", V9 + "/workspaces/{workspace_id}/projects/{project_id}")
def update_project(req: Request) -> Any:
    ws = workspace(req)
    project = project_in(req, ws)
    changes = {k: v for k, v in body(req).items() if k in {"name", "active", "billable", "client_id", "color"}}
    project.update(changes, at=now())
    req.sandbox.emit("project", "updated", project, ws["id"], req)
    return project


@route("DELETE", V9 + "/workspaces/{workspace_id}/projects/{project_id}")
def delete_project(req: Request) -> Any:
    ws = workspace(req)
    project = req.world.delete("project", req.world.projects, project_in(req, ws)["id"])
    req.sandbox.emit("project", "deleted", {"id": project["id"]}, ws["id"], req)
    return None


# --- project users -------------------------------------------------------------------------
@route("POST", V9 + "/workspaces/{workspace_id}/project_users")
def add_project_user(req: Request) -> Any:
    ws, data = workspace(req), body(req)
    project_id = int_field(data, "project_id", "Invalid project_id")
    user_id = int_field(data, "user_id", "Invalid user_id")
    in_workspace(req.world.projects, project_id, ws, 400, "Invalid project_id")
    if user_id not in req.world.workspace_users.get(ws["id"], set()):
        raise TogglError(400, "Invalid user_id")
    if any(pu["project_id"] == project_id and pu["user_id"] == user_id for pu in req.world.project_users.values()):
        raise TogglError(400, "Project user already exists")
    member = {
        "id": req.world.next_id(),
        "project_id": project_id,
        "user_id": user_id,
        "workspace_id": ws["id"],
        "manager": bool(data.get("manager", False)),
        "rate": data.get("rate"),
        "labor_cost": data.get("labor_cost"),
        "at": now(),
    }
    return created(req, req.world.project_users, "project_user", member, ws["id"])


@route("GET", V9 + "/workspaces/{workspace_id}/project_users")
def list_project_users(req: Request) -> Any:
    ws = workspace(req)
    project_ids = {int(p) for p in (req.param("project_ids") or "").split(",") if p.strip().isdigit()}
    user_id = req.param("user_id")
    return [
        pu
        for pu in sorted(req.world.project_users.values(), key=lambda x: x["id"])
        if pu["workspace_id"] == ws["id"]
        and (not project_ids or pu["project_id"] in project_ids)
        and (user_id is None or str(pu["user_id"]) == user_id)
    ]


# --- tasks ---------------------------------------------------------------------------------
@route("POST", V9 + "/workspaces/{workspace_id}/projects/{project_id}/tasks")
def create_task(req: Request) -> Any:
    ws, data = workspace(req), body(req)
    if not ws["premium"]:
        raise TogglError(402, PLAN_402, played=True)  # a paid-plan feature: undocumented here
    project = in_workspace(req.world.projects, req.args["project_id"], ws, 400, "Project not found/accessible")
    name = str(data.get("name") or "").strip()
    if not name:
        raise TogglError(400, "Task name can't be blank", played=True)
    assignee = data.get("user_id")
    if assignee is not None and assignee not in req.world.workspace_users.get(ws["id"], set()):
        raise TogglError(400, "Invalid user_id", played=True)  # undocumented for this endpoint
    task = {
        "id": req.world.next_id(),
        "name": name,
        "project_id": project["id"],
        "workspace_id": ws["id"],
        "user_id": assignee,
        "active": data.get("active", True),
        "estimated_seconds": data.get("estimated_seconds"),
        "tracked_seconds": 0,
        "external_reference": data.get("external_reference"),
        "at": now(),
    }
    return created(req, req.world.tasks, "task", task, ws["id"])


# --- invitations ---------------------------------------------------------------------------
@route("POST", V9 + "/organizations/{organization_id}/invitations")
def invite(req: Request) -> Any:
    oid, data = int(req.args["organization_id"]), body(req)
    _check_visible_organization(req, oid)
    emails = _invited_emails(data)
    workspaces = _invited_workspaces(req, oid, data)
    if req.world.plan(oid) == "free" and len(_members(req, oid)) + len(emails) > FREE_ACTIVE_USER_LIMIT:
        raise TogglError(400, f"Active user limit is {FREE_ACTIVE_USER_LIMIT}. Upgrade to add more active users")
    org = req.world.organizations[oid]
    data_out, invitations = [], []
    for email in emails:
        invitation = _invitation(req, oid, email, workspaces)
        req.world.invitations[invitation["invitation_id"]] = invitation
        if not data.get("skip_email"):
            req.world.emails_sent.append(email)
        data_out.append(invitation)
        invitations.append(
            {
                "code": str(invitation["invite_url"]).rsplit("/", 1)[-1],
                "email": email,
                "organization_id": oid,
                "organization_name": org["name"],
                "sender_email": req.user["email"],
                "sender_name": req.user["fullname"],
            }
        )
    return {"data": data_out, "invitations": invitations, "messages": [f"Invitation sent to {e}" for e in emails]}


def _check_visible_organization(req: Request, oid: int) -> None:
    """403 unless the organization exists and the caller sees one of its workspaces."""
    if oid not in req.world.organizations or not any(
        ws["organization_id"] == oid and req.world.can_see(req.user["id"], wid)
        for wid, ws in req.world.workspaces.items()
    ):
        raise TogglError(403, "Forbidden")


def _invited_emails(data: dict[str, Any]) -> list[str]:
    """The addresses to invite: at least one, each a well-formed e-mail address."""
    emails = data.get("emails")
    if not isinstance(emails, list) or not emails:
        raise TogglError(400, "at least one email is required")
    for email in emails:
        if not isinstance(email, str) or not EMAIL.fullmatch(email):
            raise TogglError(400, f"Invalid e-mail: '{email}'")
    return emails


def _invited_workspaces(req: Request, oid: int, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The workspaces to invite to: at least one, each of this organization."""
    workspaces: list[dict[str, Any]] = data.get("workspaces") or []
    if not workspaces:
        raise TogglError(400, "at least one workspace is required")
    for item in workspaces:
        wid = item.get("workspace_id") if isinstance(item, dict) else None
        if wid not in req.world.workspaces or req.world.workspaces[wid]["organization_id"] != oid:
            raise TogglError(400, "invalid workspace ID")
    return workspaces


def _invitation(req: Request, oid: int, email: str, workspaces: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "invitation_id": req.world.next_id(),
        "email": email,
        "organization_id": oid,
        "invite_url": f"https://track.toggl.com/invite/{req.world.next_id()}",
        "sender_id": req.user["id"],
        "recipient_id": None,
        "workspaces": [
            {"user_id": None, "workspace_id": w["workspace_id"], "workspace_user_id": None} for w in workspaces
        ],
    }


# --- workspaces --------------------------------------------------------------------------------
@route("POST", V9 + "/organizations/{organization_id}/workspaces")
def create_workspace(req: Request) -> Any:
    oid, data = int(req.args["organization_id"]), body(req)
    if oid not in req.world.organizations:
        raise TogglError(403, "Forbidden")
    name = str(data.get("name") or "").strip()
    if not name:
        raise TogglError(400, "Workspace name must not be empty")
    ws = req.world.add_workspace(oid, name)
    req.world.workspace_users[ws["id"]].add(req.user["id"])
    req.sandbox.emit("workspace", "created", public(ws), ws["id"], req)
    return public(ws)
