"""The actions: what each takes, the one Toggl call it makes, and how it stays safe to
retry: a create whose answer was lost is never sent again blindly (``create_or_find``), and a caller's
retry is answered from what the first attempt did. Handlers in ``functions/actions`` only pick
one by name and call ``run``."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from toggl_connection.calls import guards, invocation, time_entries, unknown_outcomes
from toggl_connection.calls.validation import Check, emails, non_blank, not_negative, parse, positive
from toggl_connection.calls.writes import Outcome, first_match, found, given
from toggl_connection.core import records, settings
from toggl_connection.core.documents import without_secrets
from toggl_connection.core.errors import (
    AdminInvitationNotAllowed,
    ConnectionFailure,
    TogglAlreadyExists,
    TogglFailure,
    TogglNotFound,
    TogglOutcomeUnknown,
)
from toggl_connection.core.observability import count_by, logger
from toggl_connection.toggl.client import V9, TogglClient, toggl_client

# A retry with the same Idempotency-Key (or of the same request after an unknown outcome) within
# this window is answered from what the first one did.
IDEMPOTENCY_SECONDS = 24 * 60 * 60
# Every record the actions keep starts so (the table's policy lets them touch nothing else).


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
    # The same invitation within the window is answered, not sent, unless this says to send it again.
    resend: bool = False


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


class CreateProject(NamedTuple):
    workspace_id: int
    name: str
    client_id: int | None = None
    active: bool | None = None
    is_private: bool | None = None
    billable: bool | None = None
    color: str | None = None
    estimated_hours: int | None = None
    template: bool | None = None


class CreateTag(NamedTuple):
    workspace_id: int
    name: str


# Beyond the types: what Toggl would refuse anyway, refused before spending a request on it.
CHECKS: dict[type, dict[str, Check]] = {
    **time_entries.CHECKS,
    CreateProject: {"workspace_id": positive, "name": non_blank, "client_id": positive, "estimated_hours": positive},
    CreateTag: {"workspace_id": positive, "name": non_blank},
    CreateClient: {"workspace_id": positive, "name": non_blank},
    CreateUserInvitation: {"workspace_id": positive, "emails": emails},
    AddProjectMember: {
        "workspace_id": positive,
        "project_id": positive,
        "user_id": positive,
        "rate": not_negative,
        "labor_cost": not_negative,
    },
    CreateTask: {
        "workspace_id": positive,
        "project_id": positive,
        "name": non_blank,
        "estimated_seconds": not_negative,
        "user_id": positive,
    },
}


# --- what each action does -----------------------------------------------------------------
def create_client(toggl: TogglClient, item: CreateClient) -> Any:
    body = {"name": item.name.strip(), **given(item, "notes", "external_reference")}
    return toggl.post(f"{V9}/workspaces/{item.workspace_id}/clients", body).data


def find_client(toggl: TogglClient, item: CreateClient, since: float | None) -> Any:
    """The client this request would have made (Toggl's ``name`` filter is a substring match)."""
    name = item.name.strip()
    clients = toggl.get(f"{V9}/workspaces/{item.workspace_id}/clients", {"name": name, "status": "both"}).data
    wanted = {"name": name, **given(item, "notes", "external_reference")}
    return first_match(clients, wanted, since, active=lambda c: not c.get("archived"))


_organizations: dict[tuple[str, int], int] = {}


def forget_organizations() -> None:
    _organizations.clear()


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


def create_user_invitation(toggl: TogglClient, item: CreateUserInvitation) -> Any:
    organization_id = organization_of(toggl, item.workspace_id)
    body: dict[str, Any] = {
        "emails": item.emails,
        "workspaces": [{"workspace_id": item.workspace_id, "admin": item.admin}],
        **given(item, "skip_email"),
    }
    return toggl.post(f"{V9}/organizations/{organization_id}/invitations", body).data


def add_project_member(toggl: TogglClient, item: AddProjectMember) -> Any:
    body = {
        "project_id": item.project_id,
        "user_id": item.user_id,
        "manager": item.manager,
        **given(item, "rate", "labor_cost"),
    }
    return toggl.post(f"{V9}/workspaces/{item.workspace_id}/project_users", body).data


def find_project_member(toggl: TogglClient, item: AddProjectMember, since: float | None) -> Any:
    path = f"{V9}/workspaces/{item.workspace_id}/project_users"
    members = toggl.get(path, {"project_ids": item.project_id, "user_id": item.user_id}).data or []
    # ``manager`` false is the default, not a wish: a manager is a member too.
    wanted = {
        "project_id": item.project_id,
        "user_id": item.user_id,
        **given(item, "rate", "labor_cost"),
        **({"manager": True} if item.manager else {}),
    }
    return first_match(members, wanted, since, active=lambda _: True)


def create_task(toggl: TogglClient, item: CreateTask) -> Any:
    body = {"name": item.name.strip(), **given(item, "estimated_seconds", "user_id", "active", "external_reference")}
    return toggl.post(f"{V9}/workspaces/{item.workspace_id}/projects/{item.project_id}/tasks", body).data


def find_task(toggl: TogglClient, item: CreateTask, since: float | None) -> Any:
    """The task this request would have made (the project's list is every task, active or not)."""
    tasks = toggl.get(f"{V9}/workspaces/{item.workspace_id}/projects/{item.project_id}/tasks").data
    wanted = {"name": item.name.strip(), **given(item, "estimated_seconds", "user_id", "external_reference")}
    active = True if item.active is None else item.active
    return first_match(tasks, wanted, since, active=lambda t: t.get("active", True) is active)


PROJECT_FIELDS = ("client_id", "active", "is_private", "billable", "color", "estimated_hours", "template")


def create_project(toggl: TogglClient, item: CreateProject) -> Any:
    body = {"name": item.name.strip(), **given(item, *PROJECT_FIELDS)}
    return toggl.post(f"{V9}/workspaces/{item.workspace_id}/projects", body).data


def find_project(toggl: TogglClient, item: CreateProject, since: float | None) -> Any:
    """The project this request would have made: exactly this name (Toggl's ``name`` filter is
    looser), every field it set, active or archived as asked."""
    active = item.active is not False
    params = {"name": item.name.strip(), "active": "true" if active else "false"}
    projects = toggl.get(f"{V9}/workspaces/{item.workspace_id}/projects", params).data
    wanted = {"name": item.name.strip(), **given(item, *PROJECT_FIELDS)}
    wanted.pop("active", None)  # told by the predicate: Toggl's default (true) is a wish too
    return first_match(projects, wanted, since, active=lambda p: p.get("active", True) is active)


def create_tag(toggl: TogglClient, item: CreateTag) -> Any:
    data = toggl.post(f"{V9}/workspaces/{item.workspace_id}/tags", {"name": item.name.strip()}).data
    # Seen: the tag itself; documented: an array of the tags created.
    return data[0] if isinstance(data, list) and len(data) == 1 else data


def find_tag(toggl: TogglClient, item: CreateTag, since: float | None) -> Any:
    tags = toggl.get(f"{V9}/workspaces/{item.workspace_id}/tags", {"search": item.name.strip()}).data
    return first_match(tags, {"name": item.name.strip()}, since, active=lambda t: not t.get("deleted_at"))


class Action(NamedTuple):
    name: str
    model: type
    # A create: sent once; what a lost one made is looked for before it is sent again.
    create: Callable[[TogglClient, Any], Any] | None
    # What the create would have made, when its outcome is unknown (made no earlier than the
    # given moment; None: whenever). None: never send it twice (an invitation is an e-mail: the
    # unknown outcome is the answer).
    find: Callable[[TogglClient, Any, float | None], Any] | None
    # Repeating the same request is never wanted: dedupe on its content even without a key.
    content_key: bool = False
    # Toggl's "already exists" is what the caller wanted (already a member): answer with it.
    exists_is_done: bool = False
    # A change safe to repeat (stop, update, delete), in place of a create; told when an earlier
    # attempt of the same request had an unknown outcome.
    change: Callable[[TogglClient, Any, float | None], Outcome] | None = None
    # Fields that belong to another action, refused with a pointer to it (before parsing).
    refuse: Callable[[Mapping[str, Any]], None] | None = None
    # Rules across fields (after parsing).
    check: Callable[[Any], None] | None = None
    # Whether the stack's DefaultWorkspaceId stands in for a missing workspace_id (a stop
    # without one stops the running entry, wherever it runs).
    default_workspace: bool = True

    @property
    def once_only(self) -> bool:
        """Never sent twice: its outcome, once unknown, is the answer."""
        return self.change is None and self.find is None


ACTIONS = {
    action.name: action
    for action in (
        Action("create-client", CreateClient, create_client, find_client),
        Action("create-user-invitation", CreateUserInvitation, create_user_invitation, None, content_key=True),
        Action("add-project-member", AddProjectMember, add_project_member, find_project_member, exists_is_done=True),
        Action("create-task", CreateTask, create_task, find_task),
        Action(
            "start-time-entry",
            time_entries.StartTimeEntry,
            time_entries.start_entry,
            time_entries.find_started,
            refuse=time_entries.refuse_finished,
        ),
        Action(
            "stop-time-entry",
            time_entries.StopTimeEntry,
            None,
            None,
            change=time_entries.stop_entry,
            default_workspace=False,
        ),
        Action(
            "create-time-entry",
            time_entries.CreateTimeEntry,
            time_entries.log_entry,
            time_entries.find_logged,
            check=time_entries.check_finished,
        ),
        Action(
            "update-time-entry",
            time_entries.UpdateTimeEntry,
            None,
            None,
            change=time_entries.update_entry,
            check=time_entries.check_update,
        ),
        Action("delete-time-entry", time_entries.DeleteTimeEntry, None, None, change=time_entries.delete_entry),
        Action("create-project", CreateProject, create_project, find_project),
        Action("create-tag", CreateTag, create_tag, find_tag),
    )
}
# Before looking for what a lost create made, give Toggl this long to finish it.
SETTLE_SECONDS = 0.5
CREATE_ATTEMPTS = 3


def create_or_find(action: Action, toggl: TogglClient, item: Any, first_attempt: float | None = None) -> Outcome:
    """Create, never blindly twice. ``first_attempt``: when an earlier attempt of this very
    request ended with an unknown outcome, so look first. After an unknown outcome, look for
    what the request would have made and answer with it; send again only when it is not there.
    A change (stop, update, delete) is safe to repeat: it is sent, and says what it did."""
    if action.change is not None:
        return action.change(toggl, item, first_attempt)
    assert action.create is not None
    if first_attempt is not None and action.find is not None:
        existing = action.find(toggl, item, first_attempt)
        if existing is not None:
            return found(existing)
    since = time.time() if first_attempt is None else first_attempt
    attempt = 0
    while True:
        attempt += 1
        try:
            return Outcome(201, action.create(toggl, item))
        except TogglAlreadyExists:
            # Already there (a member already): what was asked for, whenever it was made.
            existing = action.find(toggl, item, None) if action.exists_is_done and action.find else None
            if existing is None:
                raise
            return found(existing)
        except TogglOutcomeUnknown as unknown:
            made = _made_despite(unknown, action, toggl, item, since)
            if made is not None:
                logger.info("found what a create with a lost answer made", extra={"attempt": attempt})
                return made
            if attempt >= CREATE_ATTEMPTS:
                raise


def _made_despite(
    unknown: TogglOutcomeUnknown, action: Action, toggl: TogglClient, item: Any, since: float
) -> Outcome | None:
    """What a create whose answer was lost (``unknown``) made, when Toggl has it; None when it is
    not there (the create may be sent again). Without a way to look, or the time to, ``unknown``
    stands."""
    if action.find is None or toggl.time_left() < SETTLE_SECONDS + 2:
        raise unknown
    time.sleep(SETTLE_SECONDS)
    try:
        existing = action.find(toggl, item, since)
    except TogglFailure:
        raise unknown from None
    return None if existing is None else found(existing)


# --- running one ---------------------------------------------------------------------------
def _fingerprint(name: str, item: Any) -> str:
    return hashlib.sha256(json.dumps([name, item._asdict()], sort_keys=True).encode()).hexdigest()


def run(name: str, event: Any, context: Any) -> Any:
    """Perform action ``name`` for any kind of invocation; errors answered in one place."""
    kind = invocation.kind_of(event)
    logger.append_keys(action=name, caller=invocation.caller_of(event))
    try:
        request = invocation.read(event)
        outcome = act(name, request.payload, request.idempotency_key, context)
    except Exception as failure:  # noqa: BLE001 - answered (or raised) in invocation.fail
        code = failure.code if isinstance(failure, ConnectionFailure) else "internal_error"
        count_by("ActionFailed", "error", code)
        return invocation.fail(kind, failure)
    headers = {"Idempotent-Replayed": "true"} if outcome.get("duplicate") else {}
    return invocation.answer(kind, outcome["status"], outcome["body"], headers)


def act(name: str, payload: dict[str, Any], idempotency_key: str | None, context: Any) -> dict[str, Any]:
    """Action ``name`` on ``payload``, however it was asked (a route, a rule, an agent's tool call):
    validated, guarded, performed safely. ``{"status", "body"}`` (``"duplicate"`` when answered from
    an earlier attempt); raises a ``ConnectionFailure`` for anything refused or failed."""
    action = ACTIONS[name]
    config = settings.load()
    if action.refuse is not None and isinstance(payload, Mapping):
        action.refuse(payload)
    defaults = {"workspace_id": config.default_workspace_id} if action.default_workspace else {}
    item: Any = parse(action.model, payload, defaults, CHECKS[action.model])
    if action.check is not None:
        action.check(item)
    logger.append_keys(workspace_id=getattr(item, "workspace_id", None))
    permitted(config, item)
    outcome = _idempotently(action, item, idempotency_key, config, context)
    if "error" in outcome:
        raise _remembered_failure(outcome["error"])
    return outcome


def permitted(config: settings.Settings, item: Any) -> None:
    """The stack's limits on callers, before anything is asked of Toggl (a stop of the running
    entry learns its workspace from Toggl, and is guarded then)."""
    if item.workspace_id is not None:
        guards.workspace_allowed(config, item.workspace_id)
    if getattr(item, "admin", False) and not config.allow_admin_invitations:
        raise AdminInvitationNotAllowed(
            "This stack does not send admin invitations (its AllowAdminInvitations parameter is false): invite "
            'without "admin", or ask whoever deploys it to allow them.'
        )


# What an invitation answer carries that must not be kept at rest (in the idempotency table).
INVITATION_SECRETS = frozenset({"invite_url", "code"})


def _at_rest(body: Any) -> Any:
    """The answer as the idempotency record keeps it: an invitation without its links and codes."""
    if not isinstance(body, dict):
        return body
    return {
        key: [
            {k: v for k, v in item.items() if k not in INVITATION_SECRETS} if isinstance(item, dict) else item
            for item in value
        ]
        if key in ("data", "invitations") and isinstance(value, list)
        else value
        for key, value in body.items()
    }


def _idempotently(
    action: Action, item: Any, key: str | None, config: settings.Settings, context: Any
) -> dict[str, Any]:
    """The action done once per request: a retry with the same key (an invitation: with the same
    content) is answered from the first attempt, and an outcome Toggl left unknown is remembered,
    so that a retry looks for what it made before sending it again."""
    fingerprint = _fingerprint(action.name, item)
    table = config.require("records_table_name")
    lost = unknown_outcomes.Remembered(table, records.action(action.name), fingerprint, IDEMPOTENCY_SECONDS)

    def attempt() -> dict[str, Any]:
        """One attempt at Toggl, minding what an earlier attempt of this request left unknown."""
        earlier = lost.first_attempt()
        if earlier is not None and action.once_only:
            # The same invitation ended with an unknown outcome: it is never sent a second time.
            return {"error": {"message": REMEMBERED_UNKNOWN, "request_id": None}}
        started = time.time()
        toggl = toggl_client(config, context)
        try:
            outcome = create_or_find(action, toggl, item, earlier)
        except TogglOutcomeUnknown as unknown:
            lost.remember(earlier or started)
            if not action.once_only:
                raise  # nothing stored under a key: a retry looks for what this made (or repeats it)
            return {"error": {"message": unknown.message, "request_id": unknown.request_id}}
        if earlier is not None:
            lost.forget()
        answer = {"status": outcome.status, "body": without_secrets(outcome.body)}
        first.append(answer)
        return {**answer, "body": _at_rest(answer["body"])}

    first: list[dict[str, Any]] = []  # this invocation's own answer, whole
    if action.content_key and not getattr(item, "resend", False):
        attempt = _once_by_content(action, item, attempt, table, context)
    if key is None:
        stored = attempt()
        return first[0] if first and not stored.get("duplicate") else stored
    # Only keyed requests need the idempotency machinery: kept off the cold start of the others.
    from toggl_connection.core import idempotency

    remembered = idempotency.once(
        key,
        attempt,
        table,
        context,
        prefix=records.action(action.name),
        expires_after_seconds=IDEMPOTENCY_SECONDS,
        fingerprint=fingerprint,
    )
    if first and not remembered.get("duplicate"):
        return first[0]
    return {**remembered, "duplicate": True} if _already_done(remembered) else remembered


def _same_invitation(item: CreateUserInvitation) -> str:
    """What makes two invitations the same, whatever else they carry: the workspace, the set of
    addresses, and whether they make admins."""
    emails = sorted({email.strip().lower() for email in item.emails})
    return hashlib.sha256(json.dumps([item.workspace_id, emails, item.admin]).encode()).hexdigest()


def _already_done(remembered: dict[str, Any]) -> bool:
    body = remembered.get("body")
    return isinstance(body, dict) and body.get("already_invited") is True


def _once_by_content(
    action: Action, item: Any, work: Callable[[], dict[str, Any]], table: str, context: Any
) -> Callable[[], dict[str, Any]]:
    """``work`` done once per content within the window, whatever idempotency key each call
    carries (or none): a repeat answers the first result with ``already_invited``."""
    from toggl_connection.core import idempotency

    def by_content() -> dict[str, Any]:
        remembered = idempotency.once(
            _same_invitation(item),
            work,
            table,
            context,
            prefix=records.same_content(action.name),
            expires_after_seconds=IDEMPOTENCY_SECONDS,
        )
        if remembered.get("duplicate") and isinstance(remembered.get("body"), dict):
            return {**remembered, "body": {**remembered["body"], "already_invited": True}}
        return remembered

    return by_content


REMEMBERED_UNKNOWN = (
    "An earlier attempt of this same invitation had an unknown outcome, so it is not sent again: check in Toggl "
    "whether it arrived."
)


def _remembered_failure(error: dict[str, Any]) -> TogglOutcomeUnknown:
    return TogglOutcomeUnknown(str(error.get("message")), error.get("request_id"))
