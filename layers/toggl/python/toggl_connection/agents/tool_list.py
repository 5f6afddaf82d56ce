"""The actions and queries as tools for AI agents: one list, made from what defines the actions
(their input models and checks) and the queries (their parameters and converters), so that a
new field or parameter shows up on every surface with no second edit. What is written here by
hand is only what a model needs beyond types: when to use a tool, and what each argument means.

Three renderings of the one list: MCP ``tools/list``, a Bedrock Agents action group's
``functionSchema`` and an AgentCore Gateway Lambda target's tool definitions."""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any, NamedTuple

from toggl_connection.calls import actions, queries, query_params, time_entries, validation
from toggl_connection.core import settings

# Concise by default: an agent pays for every token it reads.
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
PREFIX = "toggl_"
# Bedrock Agents' limit on a function's description.
BEDROCK_DESCRIPTION_CHARS = 1200
BEDROCK_PARAMETER_CHARS = 500


class Tool(NamedTuple):
    name: str
    operation: str  # the action's or query's name (create-client, time-entries, ...)
    kind: str  # "write", "list" or "single"
    title: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    defaults: Mapping[str, Any]  # tool-level defaults applied before the operation sees the arguments

    @property
    def writes(self) -> bool:
        return self.kind == "write"

    def annotations(self) -> dict[str, Any]:
        if self.writes:
            return {
                "title": self.title,
                "readOnlyHint": False,
                "destructiveHint": self.operation in DESTRUCTIVE,
                "idempotentHint": True,
                "openWorldHint": True,
            }
        return {"title": self.title, "readOnlyHint": True, "openWorldHint": True}


# Writes that change or remove what exists (every other write adds something).
DESTRUCTIVE = frozenset({"update-time-entry", "delete-time-entry"})
# Hidden from agents unless the stack's AgentToolsAllowDelete is true (the HTTP route is IAM's).
DELETES = frozenset({"delete-time-entry"})

# --- what a model needs to know, per tool --------------------------------------------------------
WORKSPACE_FIRST = "Call toggl_list_workspaces if you do not know the workspace id."
TIMES = "Times are RFC 3339 with a time zone (2026-12-03T14:30:00Z or 2026-12-03T15:30:00+01:00)."
ENTRY_IDS = (
    "Project ids: toggl_list_projects; task ids: toggl_list_tasks; tag ids: toggl_list_tags (or give tag names in "
    "tags; Toggl creates missing ones)."
)
FIND_ENTRY = (
    "Find the time_entry_id with toggl_list_time_entries or toggl_get_current_time_entry (or from the answer "
    "of the tool that created it)."
)
# (tool name, title, when to use it and what it returns, Toggl requests it costs)
TEXT: dict[str, tuple[str, str, str, str]] = {
    "create-client": (
        "toggl_create_client",
        "Create a Toggl client",
        "Create a client (a customer) in a Toggl workspace. Returns the client created; when a client with "
        "this exact name already exists because an earlier attempt's answer was lost, returns that one with "
        f"found_existing: true. {WORKSPACE_FIRST}",
        "1 Toggl request",
    ),
    "create-user-invitation": (
        "toggl_create_user_invitation",
        "Invite people to a Toggl workspace",
        "Invite one or more people by e-mail to a Toggl workspace (Toggl e-mails them unless skip_email). Returns "
        "Toggl's answer. An invitation is never sent twice by accident: the same invitation (same workspace, "
        "addresses and admin) within 24 hours answers the first one's result with already_invited: true and "
        f"sends nothing, whatever idempotency_key it carries; give resend: true to send it again. {WORKSPACE_FIRST}",
        "2 Toggl requests the first time per workspace (its organization is looked up once), then 1",
    ),
    "add-project-member": (
        "toggl_add_project_member",
        "Add a member to a Toggl project",
        "Add a workspace user to a Toggl project (optionally as its manager, with rates). Returns the project "
        "membership; when the user is already a member, returns that membership with found_existing: true. "
        "Call toggl_list_projects for project ids and toggl_list_workspace_users for user ids. " + WORKSPACE_FIRST,
        "1 Toggl request (1 more when the user is already a member)",
    ),
    "create-task": (
        "toggl_create_task",
        "Create a task in a Toggl project",
        "Create a task in a Toggl project (tasks need a paid Toggl plan). Returns the task; when a task with "
        "this exact name already exists in the project because an earlier attempt's answer was lost, returns it "
        f"with found_existing: true. Call toggl_list_projects if you do not know the project id. {WORKSPACE_FIRST}",
        "1 Toggl request",
    ),
    "start-time-entry": (
        "toggl_start_time_entry",
        "Start a Toggl timer",
        "Start a timer now (or at start) for the token's user: a running time entry. Toggl runs one timer per "
        "user, so this stops the timer that is running, if any. Returns the new entry (duration is negative while "
        "it runs). Safe to retry: after a lost answer it finds the timer it started (found_existing: true) "
        f"instead of starting a second one. To log time already spent, use toggl_create_time_entry. {ENTRY_IDS} "
        f"{TIMES} {WORKSPACE_FIRST}",
        "1 Toggl request",
    ),
    "stop-time-entry": (
        "toggl_stop_time_entry",
        "Stop a Toggl timer",
        "Stop the running timer (no arguments), or the entry time_entry_id. Returns the stopped entry with its "
        "duration in seconds; an entry that was already stopped comes back with already_stopped: true. Nothing "
        "running is the error no_running_time_entry.",
        "2 Toggl requests without time_entry_id (the running entry is looked up first: the user's own quota of "
        "30 an hour), 1 with it",
    ),
    "create-time-entry": (
        "toggl_create_time_entry",
        "Log a finished Toggl time entry",
        "Log time already spent: a finished entry from start with duration (seconds) or stop (if both, they must "
        "agree). It does not touch a running timer. Returns the entry; after a lost answer, a retry finds it "
        f"(found_existing: true) rather than logging it twice. {ENTRY_IDS} {TIMES} {WORKSPACE_FIRST}",
        "1 Toggl request",
    ),
    "update-time-entry": (
        "toggl_update_time_entry",
        "Change a Toggl time entry",
        "Change the given fields of a time entry (description, project, task, tags, billable, start, stop, "
        "duration in seconds); fields left out stay as they are. Returns the entry as changed. Giving tags or "
        f"tag_ids replaces the entry's tags. {FIND_ENTRY} {TIMES}",
        "1 Toggl request",
    ),
    "delete-time-entry": (
        "toggl_delete_time_entry",
        "Delete a Toggl time entry",
        "Delete a time entry for good. Returns deleted: true with its time_entry_id; a retry after a lost answer "
        f"answers the same. {FIND_ENTRY}",
        "1 Toggl request",
    ),
    "create-project": (
        "toggl_create_project",
        "Create a Toggl project",
        "Create a project in a Toggl workspace, optionally for a client (client ids: toggl_list_clients). Returns "
        "the project; when a project of exactly this name exists because an earlier attempt's answer was lost, "
        "returns it with found_existing: true. A name already taken by another project is the error "
        f"already_exists. {WORKSPACE_FIRST}",
        "1 Toggl request",
    ),
    "create-tag": (
        "toggl_create_tag",
        "Create a Toggl tag",
        "Create a tag in a Toggl workspace. Returns the tag; a tag of that name that already exists is the error "
        f"already_exists (list tags with toggl_list_tags). {WORKSPACE_FIRST}",
        "1 Toggl request",
    ),
    "me": (
        "toggl_get_me",
        "Who the Toggl token belongs to",
        "The Toggl user whose token this connection uses: id, name, e-mail, default workspace, time zone. "
        "Use it to learn the user's own id or default workspace.",
        "1 Toggl request",
    ),
    "organizations": (
        "toggl_list_organizations",
        "List Toggl organizations",
        "The Toggl organizations the user belongs to (id, name, plan). Organizations hold workspaces.",
        "1 Toggl request",
    ),
    "workspaces": (
        "toggl_list_workspaces",
        "List Toggl workspaces",
        "The Toggl workspaces the user can use (id, name, organization_id). Call this first when you need a "
        "workspace id for another tool.",
        "1 Toggl request",
    ),
    "workspace": (
        "toggl_get_workspace",
        "Get one Toggl workspace",
        f"One Toggl workspace's settings (name, organization, plan features, rounding, currency). {WORKSPACE_FIRST}",
        "1 Toggl request",
    ),
    "projects": (
        "toggl_list_projects",
        "List Toggl projects",
        "The projects of a Toggl workspace (id, name, client_id, active, billable), filtered by the arguments. "
        f"Use it to find a project id by name. {WORKSPACE_FIRST}",
        "1 Toggl request per 200 projects",
    ),
    "clients": (
        "toggl_list_clients",
        "List Toggl clients",
        f"The clients of a Toggl workspace (id, name, archived). Use it to find a client id by name. {WORKSPACE_FIRST}",
        "1 Toggl request",
    ),
    "tasks": (
        "toggl_list_tasks",
        "List Toggl tasks",
        "The tasks of a Toggl workspace (id, name, project_id, project_name, active, estimates), optionally of one "
        f"project (pid). Call toggl_list_projects if you do not know the project id. {WORKSPACE_FIRST}",
        "1 Toggl request per 200 tasks",
    ),
    "time-entries": (
        "toggl_list_time_entries",
        "List the user's time entries",
        "The token user's time entries (description, start, stop, duration in seconds, project and client with "
        "their names), newest first. Give start_date and end_date for a period, or since for changes after a "
        "moment; without them Toggl returns recent entries.",
        "1 Toggl request",
    ),
    "current-time-entry": (
        "toggl_get_current_time_entry",
        "Get the running time entry",
        "The time entry the token user is tracking right now (running: true, elapsed_seconds so far, project and "
        "client names), or item: null when no timer runs.",
        "1 Toggl request (2 more, once every 5 minutes, for the project and client names)",
    ),
    "workspace-users": (
        "toggl_list_workspace_users",
        "List a workspace's users",
        "The users of a Toggl workspace (id, name, e-mail). Use it to find a user id for "
        f"toggl_add_project_member. {WORKSPACE_FIRST}",
        "1 Toggl request",
    ),
    "project-members": (
        "toggl_list_project_members",
        "List project memberships",
        "Project memberships in a Toggl workspace (project_id, user_id, manager, rate), optionally of some "
        f"projects (project_ids) or one user (user_id). {WORKSPACE_FIRST}",
        "1 Toggl request",
    ),
    "tags": (
        "toggl_list_tags",
        "List Toggl tags",
        f"The tags of a Toggl workspace (id, name). {WORKSPACE_FIRST}",
        "1 Toggl request per 200 tags",
    ),
    "time-entry": (
        "toggl_get_time_entry",
        "Get one time entry",
        "One of the token user's time entries by id (description, start, stop, duration in seconds, project, "
        f"tags). {FIND_ENTRY}",
        "1 Toggl request (the user's own quota of 30 an hour)",
    ),
    "summary-report": (
        "toggl_get_summary_report",
        "Time per project, client or user",
        "How much time was tracked between start_date and end_date (both included, at most 366 days) in a "
        "workspace, by everyone the token may see, per project (grouping projects, the default), client or user, "
        "each group named and split into sub_groups (by default its time entries' descriptions). seconds per group "
        "and total_seconds for the whole period. Use it for questions like 'hours per project this month'. "
        + WORKSPACE_FIRST,
        "1 Toggl request, plus 1 to read the groups' names (kept for 5 minutes)",
    ),
    "detailed-report": (
        "toggl_get_detailed_report",
        "Detailed time report",
        "Every time entry of a Toggl workspace (all its users, as far as the token may see) between start_date "
        "and end_date, one row per entry with user, project and durations, filtered by the arguments. Use it for "
        f"reports across people; use toggl_list_time_entries for the user's own entries. {WORKSPACE_FIRST}",
        "1 Toggl request per 50 rows",
    ),
}

# What each argument means. A (operation, argument) entry wins over the argument's own.
ARGUMENT_TEXT: dict[str | tuple[str, str], str] = {
    "workspace_id": "Toggl workspace id (optional when the stack has a default workspace). " + WORKSPACE_FIRST,
    "project_id": "Toggl project id; call toggl_list_projects if you do not know it.",
    "user_id": "Toggl user id; call toggl_list_workspace_users if you do not know it.",
    ("create-task", "user_id"): "Toggl user id of the assignee; call toggl_list_workspace_users if you do not know it.",
    ("create-client", "name"): "The client's name (unique in the workspace).",
    ("create-task", "name"): "The task's name (unique in the project).",
    ("projects", "name"): "Only projects whose name contains this text.",
    ("clients", "name"): "Only clients whose name contains this text.",
    "notes": "Free-text notes on the client.",
    "external_reference": "Your own system's id for this object, kept by Toggl.",
    "emails": (
        f"E-mail addresses to invite (1 to {validation.MAX_INVITATION_EMAILS}; send several invitations for more)."
    ),
    "admin": "Invite as workspace admin (refused unless the stack allows admin invitations).",
    "skip_email": "Do not have Toggl send the invitation e-mail.",
    "resend": "Send the invitation again although the same one was sent in the last 24 hours.",
    "manager": "Make the user a manager of the project.",
    "rate": "Billable hourly rate of the user on this project.",
    "labor_cost": "Hourly labor cost of the user on this project.",
    "estimated_seconds": "Estimated effort in seconds.",
    ("create-task", "active"): "Whether the task is active (Toggl's default: true).",
    "active": "Only active (true), archived (false) or both.",
    "with_related_data": "Also return the user's clients, projects, tags, tasks, time entries and workspaces.",
    "billable": "Only billable (true) or non-billable (false) ones.",
    "client_ids": "Only those of these client ids.",
    "user_ids": "Only those of these user ids.",
    "project_ids": "Only those of these project ids.",
    "tag_ids": "Only those with these tag ids.",
    "task_ids": "Only those of these task ids.",
    "only_me": "Only projects the token user is a member of.",
    "only_templates": "Only project templates.",
    "since": "Only what changed after this moment (Unix time, seconds).",
    "sort_field": "Sort by this field.",
    "sort_order": "Sort order.",
    "status": "Active clients, archived ones, or both.",
    "pid": "Only the tasks of this project id.",
    "search": "Only those whose name contains this text.",
    "start_date": "First day (YYYY-MM-DD).",
    "end_date": "Last day (YYYY-MM-DD).",
    ("time-entries", "start_date"): "Start of the period: YYYY-MM-DD or an RFC 3339 timestamp (needs end_date).",
    ("time-entries", "end_date"): "End of the period: YYYY-MM-DD or an RFC 3339 timestamp (needs start_date).",
    "before": "Only entries that started before this (YYYY-MM-DD or RFC 3339 timestamp).",
    "meta": "Add project, client and task names beside their ids (default true here).",
    ("current-time-entry", "meta"): "Add the project's and client's names beside their ids (default true here; "
    "the names come from the workspace's project and client lists, read at most every 5 minutes).",
    "description": "Only entries whose description contains this text.",
    "order_by": "Sort rows by this field.",
    "order_dir": "Sort order.",
    "time_entry_id": "Toggl time entry id. " + FIND_ENTRY,
    ("stop-time-entry", "time_entry_id"): "The entry to stop; leave it out to stop the timer that is running.",
    ("stop-time-entry", "workspace_id"): "Only stop a timer running in this workspace (optional; with "
    "time_entry_id: its workspace, when the stack has no default one). " + WORKSPACE_FIRST,
    "start": "When the entry starts (RFC 3339 with a time zone).",
    ("start-time-entry", "start"): "When the timer started (RFC 3339 with a time zone); default: now.",
    "stop": "When the entry ends (RFC 3339 with a time zone, after start).",
    "duration": "Length of the entry in seconds (greater than 0; 3600 is one hour).",
    "tags": "Tag names for the entry (Toggl creates those that do not exist yet).",
    ("start-time-entry", "tag_ids"): "Tag ids for the entry; call toggl_list_tags for them.",
    ("create-time-entry", "tag_ids"): "Tag ids for the entry; call toggl_list_tags for them.",
    ("update-time-entry", "tag_ids"): "Tag ids for the entry (replace its tags); call toggl_list_tags for them.",
    ("update-time-entry", "tags"): "Tag names for the entry (replace its tags; Toggl creates missing ones).",
    "task_id": "Toggl task id (a task of the project); call toggl_list_tasks if you do not know it.",
    ("start-time-entry", "billable"): "Whether the time is billable (a paid Toggl plan feature).",
    ("create-time-entry", "billable"): "Whether the time is billable (a paid Toggl plan feature).",
    ("update-time-entry", "billable"): "Whether the time is billable (a paid Toggl plan feature).",
    ("start-time-entry", "description"): "What the time is spent on.",
    ("create-time-entry", "description"): "What the time was spent on.",
    ("update-time-entry", "description"): "The new description.",
    ("create-project", "name"): "The project's name (unique for its client in the workspace).",
    ("create-project", "client_id"): "Toggl client id of the project's client; call toggl_list_clients for it.",
    ("create-project", "active"): "Whether the project is active (Toggl's default: true).",
    "is_private": "Whether only the project's members see it (Toggl's default: true).",
    ("create-project", "billable"): "Whether time on the project is billable by default (a paid plan feature).",
    "color": "Project color as a hex code, for example #0b83d9.",
    "estimated_hours": "Estimated hours for the project (a paid plan feature).",
    "template": "Make the project a template (a paid plan feature).",
    ("create-tag", "name"): "The tag's name (unique in the workspace).",
    "grouping": "Group the time by this (default: projects).",
    "sub_grouping": "Split each group by this (default: time_entries). projects: time_entries, tasks, users; "
    "clients: time_entries, projects, users; users: time_entries, projects, clients.",
    ("summary-report", "start_date"): "First day of the period (YYYY-MM-DD).",
    ("summary-report", "end_date"): "Last day of the period, included (YYYY-MM-DD); at most 366 days in all.",
    ("summary-report", "description"): "Only time entries whose description contains this text.",
    "limit": f"At most this many items (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}).",
    "cursor": "The next_cursor of an earlier answer of this same call, to read on from where it stopped.",
    "idempotency_key": "Any unique string for this request: a retry with the same key returns the first "
    "result without acting again. Reuse it when you retry after an error or a lost answer.",
}

# Tool-level defaults: names beside ids by default (the HTTP route keeps Toggl's own default).
TOOL_DEFAULTS: dict[str, dict[str, Any]] = {"time-entries": {"meta": True}, "current-time-entry": {"meta": True}}


# --- types, from the models and converters ------------------------------------------------------
def _check_schema(check: validation.Check | None) -> dict[str, Any]:
    known: dict[Any, dict[str, Any]] = {
        time_entries.rfc3339: {"format": "date-time"},
        time_entries.seconds: {"minimum": 1},
        time_entries.tag_names: {"minItems": 1, "items": {"type": "string", "minLength": 1}},
        time_entries.tag_ids: {"minItems": 1, "items": {"type": "integer", "minimum": 1}},
    }
    if check in known:
        return dict(known[check])
    if check is validation.positive:
        return {"minimum": 1}
    if check is validation.not_negative:
        return {"minimum": 0}
    if check is validation.non_blank:
        return {"minLength": 1}
    if check is validation.emails:
        return {"minItems": 1}
    return {}


def _type_schema(kind: Any) -> dict[str, Any]:
    if kind is bool:
        return {"type": "boolean"}
    if kind is int:
        return {"type": "integer"}
    if kind is float:
        return {"type": "number"}
    if kind is str:
        return {"type": "string"}  # its maxLength: per field, in _action_input
    if typing.get_origin(kind) is list:
        (item,) = typing.get_args(kind)
        return {"type": "array", "items": _type_schema(item)}
    raise TypeError(f"no JSON type for {kind!r}")


def _converter_schema(converter: query_params.Converter) -> dict[str, Any]:
    if isinstance(converter, query_params.one_of):
        return {"type": "string", "enum": list(converter.choices)}
    known: dict[Any, dict[str, Any]] = {
        query_params.integer: {"type": "integer", "minimum": 1},
        query_params.unix_time: {"type": "integer", "minimum": 1},
        query_params.boolean: {"type": "boolean"},
        query_params.active_filter: {"type": "string", "enum": ["true", "false", "both"]},
        query_params.text: {"type": "string", "minLength": 1, "maxLength": query_params.MAX_TEXT},
        query_params.ids: {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1},
        query_params.day: {"type": "string", "format": "date"},
        query_params.day_or_timestamp: {"type": "string"},
    }
    if converter not in known:
        raise TypeError(f"no JSON type for the query parameter converter {converter!r}")
    return dict(known[converter])


def _described(operation: str, name: str, schema: dict[str, Any]) -> dict[str, Any]:
    text = ARGUMENT_TEXT.get((operation, name)) or ARGUMENT_TEXT.get(name) or f"Toggl's {name} parameter."
    if "enum" in schema:
        text += f" One of: {', '.join(schema['enum'])}."
    return {"description": text, **schema}


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def _action_input(action: actions.Action) -> dict[str, Any]:
    model: Any = action.model
    hints = typing.get_type_hints(model)
    checks = actions.CHECKS[model]
    defaults: dict[str, Any] = model._field_defaults
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name in model._fields:
        kind = hints[name]
        optional = isinstance(kind, types.UnionType) and type(None) in typing.get_args(kind)
        if optional:
            kind = next(a for a in typing.get_args(kind) if a is not type(None))
        schema = {**_type_schema(kind), **_check_schema(checks.get(name))}
        if kind is str:
            schema["maxLength"] = validation.text_limit(name)
        elif schema.get("items", {}).get("type") == "string":
            schema["items"] = {**schema["items"], "maxLength": validation.text_limit(name)}
        if defaults.get(name) is not None:
            schema["default"] = defaults[name]
        properties[name] = _described(action.name, name, schema)
        # workspace_id: the stack's DefaultWorkspaceId may stand in, as on the HTTP route.
        if not optional and name not in defaults and name != "workspace_id":
            required.append(name)
    properties["idempotency_key"] = _described(action.name, "idempotency_key", {"type": "string", "minLength": 1})
    return _object(properties, required)


def _is_single(query: queries.Query) -> bool:
    """Whether the query answers one object (``Single``) rather than a list: read from its fetch."""
    returned = typing.get_type_hints(query.fetch).get("return")
    return returned is queries.Single


def _query_input(query: queries.Query, single: bool) -> dict[str, Any]:
    spec = dict(query.params)
    properties: dict[str, Any] = {}
    if query.workspace:
        properties["workspace_id"] = _described(query.name, "workspace_id", {"type": "integer", "minimum": 1})
    for name, converter in spec.items():
        schema = _converter_schema(converter)
        default = TOOL_DEFAULTS.get(query.name, {}).get(name)
        if default is not None:
            schema["default"] = default
        properties[name] = _described(query.name, name, schema)
    if not single:
        properties["limit"] = _described(
            query.name, "limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}
        )
        properties["cursor"] = _described(query.name, "cursor", {"type": "string", "minLength": 1})
    return _object(properties, list(query.required))


QUOTA_SCHEMA = {
    "type": "object",
    "description": "Toggl's quota after this call: requests left and seconds until it resets.",
    "properties": {"remaining": {"type": "integer"}, "resets_in": {"type": ["integer", "null"]}},
}
TOGGL_REQUESTS_SCHEMA = {"type": "integer", "description": "Toggl requests this call used."}


def _output_schema(kind: str) -> dict[str, Any]:
    if kind == "write":
        return {
            "type": "object",
            "description": "The Toggl object created (an invitation: Toggl's answer).",
            "properties": {
                "id": {"type": "integer", "description": "Toggl's id of what was created or changed."},
                "found_existing": {"type": "boolean", "description": "true: it existed already; nothing was created."},
                "already_stopped": {"type": "boolean", "description": "true: the entry was stopped already."},
                "deleted": {"type": "boolean", "description": "true: the time entry is deleted."},
                "already_invited": {"type": "boolean", "description": "true: invited earlier; nothing was sent."},
                "running": {"type": "boolean", "description": "A time entry: true while its timer runs."},
                "elapsed_seconds": {"type": "integer", "description": "A running time entry: seconds so far."},
            },
        }
    common = {"toggl_requests": TOGGL_REQUESTS_SCHEMA, "quota": QUOTA_SCHEMA}
    if kind == "single":
        return {
            "type": "object",
            "properties": {"item": {"type": ["object", "null"], "description": "The object, or null."}, **common},
            "required": ["item"],
        }
    return {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"type": "object"}, "description": "The objects, in Toggl's order."},
            "count": {"type": "integer", "description": "How many items this answer holds."},
            "truncated": {"type": "boolean", "description": "true: there are more; call again with next_cursor."},
            "next_cursor": {"type": ["string", "null"], "description": "Pass as cursor to read on; null at the end."},
            "warning": {"type": "string"},
            **common,
        },
        "required": ["items", "count", "truncated", "next_cursor"],
    }


def _describe(operation: str, kind: str) -> tuple[str, str, str]:
    name, title, text, cost = TEXT[operation]
    if kind == "list":
        text += " Returns items, count, truncated and next_cursor (pass it as cursor to read on)."
    return name, title, f"{text} Toggl quota: {cost}."


@cache
def all_tools() -> tuple[Tool, ...]:
    """Every tool, in a stable order: the writes, then the reads, each as their routes list them."""
    found: list[Tool] = []
    for action in actions.ACTIONS.values():
        name, title, text = _describe(action.name, "write")
        found.append(Tool(name, action.name, "write", title, text, _action_input(action), _output_schema("write"), {}))
    for query in queries.QUERIES.values():
        single = _is_single(query)
        kind = "single" if single else "list"
        name, title, text = _describe(query.name, kind)
        found.append(
            Tool(
                name,
                query.name,
                kind,
                title,
                text,
                _query_input(query, single),
                _output_schema(kind),
                TOOL_DEFAULTS.get(query.name, {}),
            )
        )
    return tuple(found)


def allow_delete() -> bool:
    """Whether agents may delete (the stack's AgentToolsAllowDelete)."""
    return settings.getenv("AGENT_TOOLS_ALLOW_DELETE").strip().lower() == "true"


def tools(read_only: bool, allow_deletes: bool | None = None) -> tuple[Tool, ...]:
    """The tools agents are offered: no write in read-only mode; no delete unless allowed
    (``allow_deletes`` None: as the stack says)."""
    deletes = allow_delete() if allow_deletes is None else allow_deletes
    return tuple(
        tool for tool in all_tools() if not (read_only and tool.writes) and (deletes or tool.operation not in DELETES)
    )


def find(name: str, read_only: bool) -> Tool | None:
    """The tool so named, or None (a write tool in read-only mode, or a delete not allowed, is as
    unknown as a made-up name)."""
    return next((tool for tool in tools(read_only) if tool.name == name), None)


# --- the three renderings ----------------------------------------------------------------------
def mcp_tools(read_only: bool, allow_deletes: bool | None = None) -> list[dict[str, Any]]:
    """MCP ``tools/list`` entries."""
    return [
        {
            "name": t.name,
            "title": t.title,
            "description": t.description,
            "inputSchema": t.input_schema,
            "outputSchema": t.output_schema,
            "annotations": t.annotations(),
        }
        for t in tools(read_only, allow_deletes)
    ]


def _plain(schema: dict[str, Any]) -> dict[str, Any]:
    """A schema in the subset AgentCore Gateway takes: type, description, properties, items, required.
    Nullable types become their non-null type; constraints move into the description."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    result: dict[str, Any] = {"type": kind}
    notes = [schema["description"]] if schema.get("description") else []
    if "default" in schema and "default" not in " ".join(notes).lower():
        notes.append(
            f"Default: {str(schema['default']).lower() if isinstance(schema['default'], bool) else schema['default']}."
        )
    if notes:
        result["description"] = " ".join(notes)
    if "properties" in schema:
        result["properties"] = {k: _plain(v) for k, v in schema["properties"].items()}
    if schema.get("items"):
        result["items"] = _plain(schema["items"])
    elif kind == "array":
        result["items"] = {"type": "string"}
    if schema.get("required"):
        result["required"] = list(schema["required"])
    return result


def agentcore_tools(read_only: bool, allow_deletes: bool | None = None) -> list[dict[str, Any]]:
    """An AgentCore Gateway Lambda target's ``inlinePayload``."""
    return [
        {
            "name": t.name,
            "description": t.description,
            "inputSchema": _plain(t.input_schema),
            "outputSchema": _plain(t.output_schema),
        }
        for t in tools(read_only, allow_deletes)
    ]


def array_example(schema: dict[str, Any]) -> str:
    """How an array argument is written as the string Bedrock passes."""
    return '["ana@example.com"]' if schema.get("items", {}).get("type") == "string" else "[1, 2]"


def _bedrock_parameter(schema: dict[str, Any], required: bool) -> dict[str, Any]:
    text = _plain(schema).get("description", "")
    if schema.get("type") == "array":
        text += f" Give a JSON array, for example {array_example(schema)}."
    return {"type": schema["type"], "description": text.strip()[:BEDROCK_PARAMETER_CHARS], "required": required}


def bedrock_function_schema(read_only: bool, allow_deletes: bool | None = None) -> dict[str, Any]:
    """A Bedrock Agents action group's ``functionSchema``."""
    functions = []
    for t in tools(read_only, allow_deletes):
        required = set(t.input_schema.get("required", []))
        functions.append(
            {
                "name": t.name,
                "description": t.description[:BEDROCK_DESCRIPTION_CHARS],
                "parameters": {
                    name: _bedrock_parameter(schema, name in required)
                    for name, schema in t.input_schema["properties"].items()
                },
                "requireConfirmation": "ENABLED" if t.writes else "DISABLED",
            }
        )
    return {"functions": functions}
