"""What the agent tools say to a model, written by hand: each tool's name, title, when to use it
and what it costs in Toggl requests (``TEXT``), what each argument means (``ARGUMENT_TEXT``),
the phrases they share, and the limits on a list they state. ``tool_list`` puts them beside the
types it reads from the actions and queries."""

from __future__ import annotations

from toggl_connection.calls import validation

# Concise by default: an agent pays for every token it reads.
DEFAULT_LIMIT = 50
MAX_LIMIT = 500

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


def instructions(read_only: bool, allow_deletes: bool) -> str:
    """What ``initialize`` tells a model about the server: only the kinds of tools it is offered
    (a read-only stack names no writes, a stack without deletes names no delete)."""
    reads = "read workspaces, projects, clients, tasks, time entries, users, tags and reports (detailed, summary)"
    budget = (
        "Times are RFC 3339 with a time zone; durations are seconds. Toggl allows few requests per hour: prefer "
        "one precise call (filters, dates, limit) over many, and read quota.remaining in answers. Call "
        "toggl_list_workspaces first when you need a workspace id."
    )
    if read_only:
        return f"Read-only tools for one Toggl Track account: {reads}. {budget}"
    changes = "log, change and delete time entries" if allow_deletes else "log and change time entries"
    return (
        f"Tools for one Toggl Track account: track time (start and stop a timer, {changes}), {reads}; create "
        "projects, tags, clients, tasks, invitations and project memberships. Toggl runs one timer per user: "
        f"starting one stops the one running. {budget} Writes take an idempotency_key: reuse it when you retry."
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
