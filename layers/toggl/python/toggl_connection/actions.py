"""The four actions: what each takes, the one Toggl call it makes, and how it stays safe to
retry. Handlers in ``functions/actions`` only pick one by name and call ``run``."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, NamedTuple

from toggl_connection import invocation, settings
from toggl_connection.bus_event import without_secrets
from toggl_connection.errors import ConnectionFailure, TogglAlreadyExists, TogglNotFound, TogglOutcomeUnknown
from toggl_connection.models import Check, emails, non_blank, not_negative, parse, positive
from toggl_connection.observability import count_by, logger
from toggl_connection.toggl_api import TogglClient, toggl_client

V9 = "/api/v9"
# A retry with the same Idempotency-Key within this window returns the first result.
IDEMPOTENCY_SECONDS = 24 * 60 * 60


# --- inputs (Toggl's own field names) ------------------------------------------------------
class CreateClient(NamedTuple):
    workspace_id: int
    name: str
    notes: str | None = None
    external_reference: str | None = None


class CreateUserInvitation(NamedTuple):
    workspace_id: int
    emails: list[str]
    admin: bool = False
    skip_email: bool | None = None


class AddProjectMember(NamedTuple):
    workspace_id: int
    project_id: int
    user_id: int
    manager: bool = False
    rate: float | None = None
    labor_cost: float | None = None


class CreateTask(NamedTuple):
    workspace_id: int
    project_id: int
    name: str
    estimated_seconds: int | None = None
    user_id: int | None = None
    active: bool | None = None
    external_reference: str | None = None


# Beyond the types: what Toggl would refuse anyway, refused before spending a request on it.
CHECKS: dict[type, dict[str, Check]] = {
    CreateClient: {"workspace_id": positive, "name": non_blank},
    CreateUserInvitation: {"workspace_id": positive, "emails": emails},
    AddProjectMember: {
        "workspace_id": positive, "project_id": positive, "user_id": positive, "rate": not_negative,
        "labor_cost": not_negative,
    },
    CreateTask: {
        "workspace_id": positive, "project_id": positive, "name": non_blank, "estimated_seconds": not_negative,
        "user_id": positive,
    },
}  # fmt: skip


def _given(item: Any, *names: str) -> dict[str, Any]:
    """The named fields that were given (Toggl applies its own defaults to the rest)."""
    values = item._asdict()
    return {name: values[name] for name in names if values.get(name) is not None}


# --- what each action does -----------------------------------------------------------------
class Outcome(NamedTuple):
    status: int  # 201 created, 200 already there
    body: Any


def create_client(toggl: TogglClient, item: CreateClient) -> Outcome:
    body = {"name": item.name.strip(), **_given(item, "notes", "external_reference")}
    return Outcome(201, toggl.post(f"{V9}/workspaces/{item.workspace_id}/clients", body).data)


_organizations: dict[tuple[str, int], int] = {}


def organization_of(toggl: TogglClient, workspace_id: int) -> int:
    """The workspace's organization, looked up once per container (it never changes)."""
    key = (toggl.base_url, workspace_id)
    if key not in _organizations:
        workspace = toggl.get(f"{V9}/workspaces/{workspace_id}").data or {}
        organization_id = workspace.get("organization_id")
        if not isinstance(organization_id, int):
            raise TogglNotFound(f"Toggl did not say which organization workspace {workspace_id} belongs to.")
        _organizations[key] = organization_id
    return _organizations[key]


def create_user_invitation(toggl: TogglClient, item: CreateUserInvitation) -> Outcome:
    organization_id = organization_of(toggl, item.workspace_id)
    body: dict[str, Any] = {
        "emails": item.emails,
        "workspaces": [{"workspace_id": item.workspace_id, "admin": item.admin}],
        **_given(item, "skip_email"),
    }
    # Never repeated after an ambiguous failure: a second POST is a second e-mail.
    response = toggl.post(f"{V9}/organizations/{organization_id}/invitations", body, retry_ambiguous=False)
    return Outcome(201, response.data)


def add_project_member(toggl: TogglClient, item: AddProjectMember) -> Outcome:
    body = {
        "project_id": item.project_id, "user_id": item.user_id, "manager": item.manager,
        **_given(item, "rate", "labor_cost"),
    }  # fmt: skip
    path = f"{V9}/workspaces/{item.workspace_id}/project_users"
    try:
        return Outcome(201, toggl.post(path, body).data)
    except TogglAlreadyExists:
        # Already a member is what the caller wanted: answer with the existing membership.
        members = toggl.get(path, {"project_ids": item.project_id, "user_id": item.user_id}).data or []
        for member in members:
            if member.get("project_id") == item.project_id and member.get("user_id") == item.user_id:
                return Outcome(200, member)
        raise


def create_task(toggl: TogglClient, item: CreateTask) -> Outcome:
    body = {"name": item.name.strip(), **_given(item, "estimated_seconds", "user_id", "active", "external_reference")}
    path = f"{V9}/workspaces/{item.workspace_id}/projects/{item.project_id}/tasks"
    return Outcome(201, toggl.post(path, body).data)


class Action(NamedTuple):
    name: str
    model: type
    perform: Callable[[TogglClient, Any], Outcome]
    # Repeating the same request is never wanted: dedupe on its content even without a key.
    content_key: bool = False


ACTIONS = {
    action.name: action
    for action in (
        Action("create-client", CreateClient, create_client),
        Action("create-user-invitation", CreateUserInvitation, create_user_invitation, content_key=True),
        Action("add-project-member", AddProjectMember, add_project_member),
        Action("create-task", CreateTask, create_task),
    )
}


# --- running one ---------------------------------------------------------------------------
def _fingerprint(item: Any) -> str:
    return hashlib.sha256(json.dumps(item._asdict(), sort_keys=True).encode()).hexdigest()


def run(name: str, event: Any, context: Any) -> Any:
    """Perform action ``name`` for any kind of invocation; errors answered in one place."""
    action = ACTIONS[name]
    kind = invocation.kind_of(event)
    try:
        request = invocation.read(event)
        config = settings.load()
        item: Any = parse(
            action.model, request.payload, {"workspace_id": config.default_workspace_id}, CHECKS[action.model]
        )
        logger.append_keys(action=name, workspace_id=getattr(item, "workspace_id", None))
        outcome = _perform(action, item, request.idempotency_key, config, context)
    except Exception as failure:  # noqa: BLE001 - answered (or raised) in invocation.fail
        code = failure.code if isinstance(failure, ConnectionFailure) else "internal_error"
        count_by("ActionFailed", "error", code)
        return invocation.fail(kind, failure)
    headers = {"Idempotent-Replayed": "true"} if outcome.get("duplicate") else {}
    if "error" in outcome:
        return invocation.fail(kind, _remembered_failure(outcome["error"]))
    return invocation.answer(kind, outcome["status"], outcome["body"], headers)


def _perform(action: Action, item: Any, key: str | None, config: settings.Settings, context: Any) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        toggl = toggl_client(config, context)
        try:
            outcome = action.perform(toggl, item)
        except TogglOutcomeUnknown as unknown:
            # Remembered under the key: a retry must not do it a second time.
            return {"error": {"message": unknown.message, "request_id": unknown.request_id}}
        return {"status": outcome.status, "body": without_secrets(outcome.body)}

    fingerprint = _fingerprint(item)
    if key is None and action.content_key:
        key = f"content:{fingerprint}"
    if key is None:
        return work()
    # Only keyed requests need the idempotency machinery: kept off the cold start of the others.
    from toggl_connection import dedupe

    table = config.require("idempotency_table_name")
    return dedupe.once(
        key, work, table, context, prefix=f"action:{action.name}",
        expires_after_seconds=IDEMPOTENCY_SECONDS, fingerprint=fingerprint,
    )  # fmt: skip


def _remembered_failure(error: dict[str, Any]) -> TogglOutcomeUnknown:
    return TogglOutcomeUnknown(str(error.get("message")), error.get("request_id"))
