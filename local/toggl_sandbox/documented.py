"""Toggl's API as Toggl's own API documents describe it, for every endpoint the connection calls.

Written in this project's words and data from Toggl's machine-readable descriptions of the Track
API v9, the Webhooks API v1 and the Reports API v3 (Swagger 2.0, Toggl proprietary licence: read,
never copied; ``docs/toggl-api.md`` says where to read them). Two things use it:

- the tests hold the connection to it: every request the client sends to the sandbox is checked
  against ``ENDPOINTS`` (method, path, query parameters, body fields), so a parameter Toggl does
  not document cannot creep in unseen;
- the tests hold the sandbox to it: its answers use only documented fields, status codes and
  error texts, so the sandbox cannot quietly agree with the client where Toggl does not.

``make docs`` writes the table into ``docs/toggl-api.md``; a test fails when the file's copy is
stale.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

V9 = "/api/v9"
WEBHOOKS = "/webhooks/api/v1"
REPORTS = "/reports/api/v3"
# The client's User-Agent starts with this: how the sandbox tells the connection's requests from a
# test acting as a person in Toggl's app.
CONNECTION_AGENT = "toggl-track-connection/"


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


class Shape(NamedTuple):
    """A documented answer: ``object`` (fields), ``array`` (of objects with fields), ``envelope``
    (``{"data": [...]}`` plus fields), ``text`` (a JSON string) or ``none``. ``nested`` names the
    documented fields of objects inside a field (``event_filters`` items, ...). ``recorded``: the
    kind real answers have been recorded in where it is not the documented one (both pass)."""

    kind: str
    fields: frozenset[str] = frozenset()
    nested: Mapping[str, frozenset[str]] = MappingProxyType({})
    recorded: str = ""


class Endpoint(NamedTuple):
    method: str
    path: str
    used_for: str
    query: frozenset[str] = frozenset()
    body: frozenset[str] = frozenset()
    body_nested: Mapping[str, frozenset[str]] = MappingProxyType({})
    answer: Shape = Shape("none")
    relies_on: frozenset[str] = frozenset()  # answer fields the connection reads
    errors: Mapping[int, tuple[str, ...]] = MappingProxyType({})  # documented texts; {x} is a value
    paging: str = ""

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.path) + "$")


# --- documented objects ------------------------------------------------------------------------
WORKSPACE = _names(
    "admin api_token at business_ws csv_upload default_currency default_hourly_rate disable_approvals "
    "disable_expenses disable_timesheet_view hide_start_end_times ical_enabled ical_url id last_modified "
    "limit_public_project_data logo_url max_data_retention_days name only_admins_may_create_projects "
    "only_admins_may_create_tags only_admins_see_team_dashboard organization_id permissions premium "
    "projects_billable_by_default projects_enforce_billable projects_private_by_default rate_last_updated "
    "reports_collapse role rounding rounding_minutes subscription suspended_at te_constraints "
    "working_hours_in_minutes"
)
ME = _names(
    "2fa_enabled api_token at authorization_updated_at beginning_of_week clients country_id created_at "
    "default_workspace_id email fullname has_password id image_url intercom_hash oauth_providers openid_email "
    "openid_enabled options projects tags tasks time_entries timezone updated_at workspaces"
)
ORGANIZATION = _names(
    "admin at created_at id is_multi_workspace_enabled is_unified max_data_retention_days max_workspaces name "
    "owner permissions pricing_plan_enterprise pricing_plan_id pricing_plan_name subscription suspended_at "
    "trial_info user_count"
)
CLIENT = _names(
    "archived at creator_id external_reference id integration_ext_id integration_ext_type integration_provider "
    "name notes permissions total_count wid"
)
PROJECT = _names(
    "active actual_hours actual_seconds at auto_estimates billable can_track_time cid client_id client_name "
    "color created_at currency current_period end_date estimated_hours estimated_seconds external_reference "
    "fixed_fee id integration_ext_id integration_ext_type integration_provider is_private name permissions "
    "pinned rate rate_last_updated recurring recurring_parameters server_deleted_at start_date status template "
    "template_id total_count wid workspace_id"
)
TASK = _names(
    "active at avatar_url client_id client_name estimated_seconds external_reference id integration_ext_id "
    "integration_ext_type integration_provider name permissions project_billable project_color project_id "
    "project_is_private project_name rate rate_last_updated recurring toggl_accounts_id tracked_seconds user_id "
    "user_name workspace_id"
)
PROJECT_USER = _names(
    "at gid group_id id labor_cost labor_cost_last_updated manager project_id rate rate_last_updated user_id "
    "workspace_id"
)
WORKSPACE_USER = _names("email fullname id inactive is_active is_admin role")
TAG = _names(
    "at creator_id deleted_at id integration_ext_id integration_ext_type integration_provider name permissions "
    "workspace_id"
)
TIME_ENTRY = _names(
    "at billable client_id client_name description duration duronly expense_ids id permissions pid "
    "project_active project_billable project_color project_id project_name server_deleted_at shared_with start "
    "stop tag_ids tags task_id task_name tid uid user_avatar_url user_id user_name wid workspace_id"
)
TIME_ENTRY_SHAPE = Shape("object", TIME_ENTRY, {"shared_with": _names("accepted user_id user_name")})
# The body of a time entry create or update (the same definition for both; ``wid``, ``pid``,
# ``tid``, ``uid`` and ``duronly`` are its legacy or deprecated fields).
TIME_ENTRY_PAYLOAD = _names(
    "billable created_with description duration duronly event_metadata expense_ids pid project_id "
    "shared_with_user_ids start start_date stop tag_action tag_ids tags task_id tid uid user_id wid workspace_id"
)
TIME_ENTRY_PAYLOAD_NESTED = MappingProxyType({"event_metadata": _names("origin_feature visible_goals_count")})
PROJECT_PAYLOAD = _names(
    "active auto_estimates billable cid client_id client_name color currency end_date estimated_hours "
    "external_reference fixed_fee is_private is_shared name rate rate_change_mode recurring recurring_parameters "
    "start_date template template_id"
)
INVITATION_RESULT = Shape(
    "object",
    _names("data invitations messages"),
    {
        "data": _names("email invitation_id invite_url organization_id recipient_id sender_id workspaces"),
        "data.workspaces": _names("user_id workspace_id workspace_user_id"),
        "invitations": _names("code email organization_id organization_name sender_email sender_name"),
    },
)
SUBSCRIPTION = _names(
    "created_at deleted_at description enabled event_filters has_pending_events secret subscription_id "
    "updated_at url_callback user_id validated_at workspace_id"
)
FILTER = _names("action entity")
SUBSCRIPTION_SHAPE = Shape("object", SUBSCRIPTION, {"event_filters": FILTER})
SUMMARY_BODY = _names(
    "audit billable client_ids description distinguish_rates endTime end_date group_ids grouping "
    "include_time_entry_ids max_duration_seconds min_duration_seconds project_ids rounding rounding_minutes "
    "startTime start_date sub_grouping tag_ids task_ids time_entry_ids user_ids"
)
SUMMARY_AUDIT = _names("group_filter show_empty_groups show_tracked_groups")
REPORT_BODY = _names(
    "billable client_ids description endTime end_date enrich_response first_id first_row_number first_timestamp "
    "group_ids grouped hide_amounts max_duration_seconds min_duration_seconds order_by order_dir page_size "
    "project_ids rounding rounding_minutes startTime start_date tag_ids task_ids time_entry_ids user_ids"
)

TRACK_403 = ("User does not have access to this resource.",)
HOOKS_403 = ("User not found/accessible for workspace",)
SUBSCRIPTION_404 = ("subscription {subscription_id} for workspace {workspace_id} was not found",)
PING_FAILED = (
    "URL endpoint {url_callback} responded with status {status} instead of 200",
    "URL endpoint {url_callback} responded with status {status} instead of 2xx",
    "URL endpoint {url_callback} request failed with error: {error}",
)
ENABLED_LIMIT = "User {user_id} already reached the limit of {limit} enabled subscriptions for workspace {workspace_id}"
SUBSCRIPTION_400 = (
    *PING_FAILED,
    ENABLED_LIMIT,
    "Subscription description must not be empty",
    "Subscription description '{description}' is already in use for workspace {workspace_id}",
    "The list of event filters must not be empty",
    "The limit of {limit} event filters for your subscription has been exceeded as you're trying to set {count} "
    "filters",
    "The following event filter appears more than once for your subscription: {filter}",
    "The entity field for each subscription event filter must be non-empty",
    "The value '{entity}' for the filter entity can only contain letters, numbers and '_' or be '*' to match all "
    "entities",
    "The action field for each subscription event filter must be non-empty",
    "The value '{action}' for the filter action can only contain letters, numbers and '_' or be '*' to match all "
    "actions",
    "Invalid value '{action}' for event filter action",
)

REPORT_ERRORS: Mapping[int, tuple[str, ...]] = MappingProxyType(
    {
        400: (
            "At least one parameter must be set",
            "Invalid workspace id",
            "Invalid '{parameter}' value, allowed values are: '{values}'",
        ),
        402: ("Workspace needs to have this feature enabled",),
        403: ("Workspace not found/accessible",),
    }
)

ENDPOINTS: tuple[Endpoint, ...] = (
    # --- Track API v9 ------------------------------------------------------------------------
    Endpoint(
        "GET",
        V9 + "/me",
        "query me; the default workspace (setup, command line)",
        query=_names("with_related_data"),
        answer=Shape("object", ME),
        relies_on=_names("id default_workspace_id"),
        errors={403: TRACK_403, 404: ("could not load user data",)},
    ),
    Endpoint("GET", V9 + "/me/organizations", "query organizations", answer=Shape("array", ORGANIZATION)),
    Endpoint(
        "GET",
        V9 + "/me/workspaces",
        "query workspaces; the workspace poller",
        query=_names("since"),
        answer=Shape("array", WORKSPACE),
        relies_on=_names("id"),
        errors={403: TRACK_403},
    ),
    Endpoint(
        "GET",
        V9 + "/workspaces/{workspace_id}",
        "query workspace; the organization of an invitation",
        answer=Shape("object", WORKSPACE),
        relies_on=_names("organization_id"),
        errors={403: TRACK_403},
    ),
    Endpoint(
        "GET",
        V9 + "/workspaces/{workspace_id}/projects",
        "query projects; catch-up",
        query=_names(
            "active since billable user_ids client_ids group_ids project_ids statuses name page "
            "sort_field sort_order only_templates only_me only_editable per_page sort_pinned search"
        ),
        answer=Shape("array", PROJECT),
        relies_on=_names("id at created_at server_deleted_at"),
        errors={403: TRACK_403},
        paging="page, per_page (at most 200); a short page is the last",
    ),
    Endpoint(
        "GET",
        V9 + "/workspaces/{workspace_id}/clients",
        "query clients; finding a client after a lost answer",
        query=_names("status name"),
        answer=Shape("array", CLIENT),
        relies_on=_names("id name"),
        errors={400: ("Client status is invalid",), 403: ("Forbidden",)},
    ),
    Endpoint(
        "POST",
        V9 + "/workspaces/{workspace_id}/clients",
        "action create-client",
        body=_names("name notes external_reference"),
        answer=Shape("object", CLIENT),
        relies_on=_names("id"),
        errors={400: ("Client name maximum length is {max}", "Client name cannot be empty"), 403: ("Forbidden",)},
    ),
    Endpoint(
        "GET",
        V9 + "/workspaces/{workspace_id}/tasks",
        "query tasks",
        query=_names("since page per_page sort_order sort_field active pid start_date end_date search"),
        answer=Shape("envelope", _names("data page per_page sort_field sort_order total_count"), {"data": TASK}),
        relies_on=_names("data total_count"),
        errors={403: TRACK_403},
        paging="page, per_page; {data, total_count} envelope",
    ),
    Endpoint(
        "GET",
        V9 + "/workspaces/{workspace_id}/projects/{project_id}/tasks",
        "finding a task after a lost answer",
        query=_names("active"),
        answer=Shape("array", TASK),
        relies_on=_names("id name"),
        errors={400: ("Invalid project_id",), 403: TRACK_403},
    ),
    Endpoint(
        "POST",
        V9 + "/workspaces/{workspace_id}/projects/{project_id}/tasks",
        "action create-task",
        body=_names("active estimated_seconds external_reference name user_id"),
        answer=Shape("object", TASK),
        relies_on=_names("id"),
        errors={
            400: ("Project not found/accessible", "Can not change tasks of archived project", "Invalid project_id"),
            403: TRACK_403,
        },
    ),
    Endpoint(
        "GET",
        V9 + "/workspaces/{workspace_id}/project_users",
        "query project-members; finding a membership",
        query=_names("project_ids user_id with_group_members"),
        answer=Shape("array", PROJECT_USER),
        relies_on=_names("id project_id user_id"),
        errors={
            400: ("Workspace not found", "project_ids cannot exceed 200 elements.", "Invalid user_id"),
            403: TRACK_403,
        },
    ),
    Endpoint(
        "POST",
        V9 + "/workspaces/{workspace_id}/project_users",
        "action add-project-member",
        body=_names("labor_cost labor_cost_change_mode manager project_id rate rate_change_mode user_id"),
        answer=Shape("object", PROJECT_USER),
        relies_on=_names("id"),
        errors={
            400: ("Workspace not found", "Invalid project_id", "Invalid user_id", "Project user already exists"),
            403: TRACK_403,
        },
    ),
    Endpoint(
        "GET",
        V9 + "/workspaces/{workspace_id}/users",
        "query workspace-users",
        query=_names("exclude_deleted"),
        answer=Shape("array", WORKSPACE_USER),
        errors={403: TRACK_403},
    ),
    Endpoint(
        "GET",
        V9 + "/workspaces/{workspace_id}/tags",
        "query tags",
        query=_names("page per_page search"),
        answer=Shape("array", TAG),
        errors={403: TRACK_403},
        paging="page, per_page; a short page is the last",
    ),
    Endpoint(
        "POST",
        V9 + "/workspaces/{workspace_id}/tags",
        "action create-tag (documented as an array of one tag; recorded as the tag itself)",
        body=_names("name"),
        answer=Shape("array", TAG, recorded="object"),
        relies_on=_names("id name"),
        errors={
            400: ("Invalid JSON input", "tag name can't be blank", "a tag with the name '{tag_name}' already exists"),
            403: ("Only organization or workspace administrators may manage tags in this workspace.",),
        },
    ),
    Endpoint(
        "POST",
        V9 + "/workspaces/{workspace_id}/projects",
        "action create-project",
        body=PROJECT_PAYLOAD,
        answer=Shape("object", PROJECT),
        relies_on=_names("id name client_id active at created_at"),
        errors={403: TRACK_403},
    ),
    Endpoint(
        "GET",
        V9 + "/me/time_entries",
        "query time-entries; catch-up; finding a time entry after a lost answer",
        query=_names("since before start_date end_date meta include_sharing"),
        answer=Shape("array", TIME_ENTRY, TIME_ENTRY_SHAPE.nested),
        relies_on=_names(
            "id at server_deleted_at workspace_id start stop duration description project_id task_id tags tag_ids"
        ),
        errors={403: TRACK_403},
    ),
    Endpoint(
        "GET",
        V9 + "/me/time_entries/current",
        "query current-time-entry; stop-time-entry without an id; finding a lost start",
        answer=TIME_ENTRY_SHAPE,
        relies_on=_names("id workspace_id start stop duration"),
        errors={403: TRACK_403, 404: ("Resource can not be found",)},
    ),
    Endpoint(
        "GET",
        V9 + "/me/time_entries/{time_entry_id}",
        "query time-entry",
        query=_names("meta include_sharing"),
        answer=TIME_ENTRY_SHAPE,
        relies_on=_names("id"),
        errors={404: ("Resource can not be found",)},
    ),
    Endpoint(
        "POST",
        V9 + "/workspaces/{workspace_id}/time_entries",
        "actions start-time-entry, create-time-entry",
        query=_names("meta"),
        body=TIME_ENTRY_PAYLOAD,
        body_nested=TIME_ENTRY_PAYLOAD_NESTED,
        answer=TIME_ENTRY_SHAPE,
        relies_on=_names("id workspace_id start stop duration"),
        errors={403: TRACK_403},
    ),
    Endpoint(
        "PATCH",
        V9 + "/workspaces/{workspace_id}/time_entries/{time_entry_id}/stop",
        "action stop-time-entry",
        answer=TIME_ENTRY_SHAPE,
        relies_on=_names("id start stop duration"),
        errors={
            400: ("Invalid or missing time_entry_id",),
            403: TRACK_403,
            404: ("Time entry not found",),
            409: ("Time entry already stopped",),
        },
    ),
    Endpoint(
        "PUT",
        V9 + "/workspaces/{workspace_id}/time_entries/{time_entry_id}",
        "action update-time-entry",
        query=_names("meta include_sharing"),
        body=TIME_ENTRY_PAYLOAD,
        body_nested=TIME_ENTRY_PAYLOAD_NESTED,
        answer=TIME_ENTRY_SHAPE,
        relies_on=_names("id"),
        errors={403: TRACK_403},
    ),
    Endpoint(
        "DELETE",
        V9 + "/workspaces/{workspace_id}/time_entries/{time_entry_id}",
        "action delete-time-entry (200 with an empty body)",
        errors={403: TRACK_403},
    ),
    Endpoint(
        "POST",
        V9 + "/organizations/{organization_id}/invitations",
        "action create-user-invitation",
        body=_names("emails groups project_invite skip_email workspaces"),
        body_nested={
            "workspaces": _names("admin integration_data role role_id workspace_id"),
            "project_invite": _names("manager project_id workspace_id"),
        },
        answer=INVITATION_RESULT,
        relies_on=_names("data"),
        errors={
            400: (
                "Invalid JSON input",
                "Invalid organization id",
                "at least one email is required",
                "at least one workspace is required",
                "Missing e-mail",
                "Invalid e-mail: '{email}'",
                "invalid workspace ID",
                "Active user limit is 5. Upgrade to add more active users",
                "Invitation limit reached (please try again later; or upgrade)",
                "User with e-mail '{email}' is already an inactive member of the organization",
            ),
            403: ("Forbidden",),
        },
    ),
    # --- Webhooks API v1 ---------------------------------------------------------------------
    Endpoint(
        "GET",
        WEBHOOKS + "/event_filters",
        "subscription layout: which (entity, action) Toggl offers",
        answer=Shape("object"),
        relies_on=frozenset(),
    ),
    Endpoint(
        "GET",
        WEBHOOKS + "/limits/{workspace_id}",
        "subscription layout: the plan's limits",
        answer=Shape("object", _names("max_events_per_webhook max_webhooks")),
        relies_on=_names("max_events_per_webhook max_webhooks"),
    ),
    Endpoint(
        "GET",
        WEBHOOKS + "/subscriptions/{workspace_id}",
        "sync, status, health check",
        answer=Shape("array", SUBSCRIPTION, {"event_filters": FILTER}),
        relies_on=_names("subscription_id description enabled validated_at url_callback event_filters user_id"),
        errors={403: HOOKS_403},
    ),
    Endpoint(
        "POST",
        WEBHOOKS + "/subscriptions/{workspace_id}",
        "sync: create",
        body=SUBSCRIPTION,
        body_nested={"event_filters": FILTER},
        answer=SUBSCRIPTION_SHAPE,
        relies_on=_names("subscription_id"),
        errors={400: SUBSCRIPTION_400, 403: HOOKS_403},
    ),
    Endpoint(
        "PUT",
        WEBHOOKS + "/subscriptions/{workspace_id}/{subscription_id}",
        "sync: update in place",
        body=SUBSCRIPTION,
        body_nested={"event_filters": FILTER},
        answer=SUBSCRIPTION_SHAPE,
        errors={400: SUBSCRIPTION_400, 403: HOOKS_403, 404: SUBSCRIPTION_404},
    ),
    Endpoint(
        "PATCH",
        WEBHOOKS + "/subscriptions/{workspace_id}/{subscription_id}",
        "sync, health: re-enable",
        body=_names("enabled"),
        answer=SUBSCRIPTION_SHAPE,
        errors={400: (*PING_FAILED, ENABLED_LIMIT), 403: HOOKS_403, 404: SUBSCRIPTION_404},
    ),
    Endpoint(
        "DELETE",
        WEBHOOKS + "/subscriptions/{workspace_id}/{subscription_id}",
        "sync: layout change; delete",
        answer=SUBSCRIPTION_SHAPE,
        errors={403: HOOKS_403, 404: SUBSCRIPTION_404},
    ),
    Endpoint(
        "POST",
        WEBHOOKS + "/ping/{workspace_id}/{subscription_id}",
        "sync: validate what is not validated",
        answer=Shape("object", _names("status")),
        errors={403: HOOKS_403},
    ),
    Endpoint(
        "GET",
        WEBHOOKS + "/validate/{workspace_id}/{subscription_id}/{validation_code}",
        "webhook functions: asynchronous validation of a PING (no auth)",
        answer=Shape("text"),
        errors={
            400: (
                "subscription {subscription_id} for workspace {workspace_id} and validation code "
                "'{validation_code}' was not found",
                "subscription {subscription_id} has already been validated",
            )
        },
    ),
    # --- Reports API v3 ----------------------------------------------------------------------
    Endpoint(
        "POST",
        REPORTS + "/workspace/{workspace_id}/search/time_entries",
        "query detailed-report",
        body=REPORT_BODY,
        answer=Shape("array"),
        errors=REPORT_ERRORS,
        paging="X-Next-ID / X-Next-Row-Number headers, sent back as first_id / first_row_number",
    ),
    Endpoint(
        "POST",
        REPORTS + "/workspace/{workspace_id}/summary/time_entries",
        "query summary-report (the answer's schema is undocumented: an object, fields not judged)",
        body=SUMMARY_BODY,
        body_nested={"audit": SUMMARY_AUDIT},
        answer=Shape("object"),
        errors=REPORT_ERRORS,
    ),
)

# Dates in the Reports API are dates only ("time.DateOnly" in its document).
REPORT_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Answers Toggl gives on any endpoint that its documents leave out: a refused token (401, see
# docs/toggl-api.md), quota (402), a request too long for its front end (414), rate limiting (429).
# 5xx is never judged either.
UNDOCUMENTED_STATUSES = frozenset({401, 402, 414, 429})
# Path parameters the documents type as integers.
INTEGER_PATH_PARAMETERS = frozenset(
    {"workspace_id", "project_id", "organization_id", "subscription_id", "time_entry_id"}
)


def endpoint(method: str, path: str) -> tuple[Endpoint, dict[str, str]] | None:
    for candidate in ENDPOINTS:
        match = candidate.pattern.match(path)
        if candidate.method == method and match:
            return candidate, match.groupdict()
    return None


def _fields(value: Any) -> set[str]:
    return {str(k) for k in value} if isinstance(value, dict) else set()


def request_problems(method: str, path: str, query: Mapping[str, Any], body: Any) -> list[str]:
    """What in this request Toggl's documents do not describe (empty when all of it is)."""
    found = endpoint(method, path)
    if found is None:
        return [f"{method} {path}: not a documented endpoint the connection uses"]
    spec, args = found
    where = f"{method} {spec.path}"
    problems = [
        f"{where}: path parameter {name}={value!r} is not a whole number"
        for name, value in args.items()
        if name in INTEGER_PATH_PARAMETERS and not (value.isascii() and value.isdigit())
    ]
    problems += [f"{where}: query parameter {name!r} is not documented" for name in sorted(set(query) - spec.query)]
    if body is not None and not spec.body:
        problems.append(f"{where}: sends a body; the endpoint takes none")
    elif body is not None:
        if not isinstance(body, dict):
            problems.append(f"{where}: the body is not a JSON object")
        problems += [f"{where}: body field {name!r} is not documented" for name in sorted(_fields(body) - spec.body)]
        for name, allowed in spec.body_nested.items():
            items = body.get(name) if isinstance(body, dict) else None
            for item in items if isinstance(items, list) else [items] if isinstance(items, dict) else []:
                problems += [
                    f"{where}: field {name}[].{key!r} is not documented" for key in sorted(_fields(item) - allowed)
                ]
        if spec.path.startswith(REPORTS) and isinstance(body, dict):
            problems += [
                f"{where}: {name} {body[name]!r} is not a date (YYYY-MM-DD)"
                for name in ("start_date", "end_date")
                if name in body and not REPORT_DATE.fullmatch(str(body[name]))
            ]
    return problems


def _text_matches(text: str, documented: str) -> bool:
    pattern = re.escape(documented)
    pattern = re.sub(r"\\\{\w+\\\}", ".*", pattern)
    return re.fullmatch(pattern, text, flags=re.DOTALL) is not None


def answer_problems(method: str, path: str, status: int, payload: Any) -> list[str]:
    """What in an answer to a documented endpoint the documents do not describe: fields, status
    codes, error texts. Errors the documents leave out altogether (402 quota, 429, 5xx) are not
    judged here: they are the sandbox's deliberate plays of undocumented behaviour."""
    found = endpoint(method, path)
    if found is None:
        return []
    spec, _ = found
    where = f"{method} {spec.path} -> {status}"
    if status >= 400:
        return _error_problems(where, status, spec.errors.get(status), payload)
    wrong_kind = _wrong_kind(where, spec.answer.kind, method, payload)
    if wrong_kind and spec.answer.recorded:
        wrong_kind = _wrong_kind(where, spec.answer.recorded, method, payload) and wrong_kind
    if wrong_kind:
        return [wrong_kind]
    if spec.answer.kind == "text":
        return []  # a text answer has no fields to judge
    return _field_problems(where, spec.answer, payload)


def _error_problems(where: str, status: int, texts: tuple[str, ...] | None, payload: Any) -> list[str]:
    """An error answer: its status documented for the endpoint (``texts`` None when not), and its
    text one of those documented."""
    if texts is None:
        return [] if status in UNDOCUMENTED_STATUSES or status >= 500 else [f"{where}: status not documented"]
    if status in UNDOCUMENTED_STATUSES:
        return []  # also the quota's 402, on any endpoint, in a text the endpoint's list does not hold
    if not isinstance(payload, str) or not any(_text_matches(payload, t) for t in texts):
        return [f"{where}: error text {payload!r} is not one the documents give"]
    return []


def _wrong_kind(where: str, kind: str, method: str, payload: Any) -> str | None:
    """The problem when a successful answer is not the kind of value documented (None when it is)."""
    if kind == "text" and not isinstance(payload, str):
        return f"{where}: documented as a text answer"
    if kind == "array" and not isinstance(payload, list):
        return f"{where}: documented as an array"
    if kind in ("object", "envelope") and not (isinstance(payload, dict) or (payload is None and method == "GET")):
        return f"{where}: documented as an object"
    if kind == "none" and payload is not None:
        return f"{where}: documented without a body"
    return None


def _field_problems(where: str, shape: Shape, payload: Any) -> list[str]:
    """Fields of the answer's objects (each item of an array) and of the objects nested in them
    that the documents do not list."""
    objects = payload if isinstance(payload, list) else [payload] if isinstance(payload, dict) else []
    problems: list[str] = []
    for item in objects:
        if shape.fields and isinstance(item, dict):
            problems += [f"{where}: field {k!r} is not documented" for k in sorted(_fields(item) - shape.fields)]
        for name, allowed in shape.nested.items():
            for inner in _at(item, name):
                problems += [
                    f"{where}: field {name}[].{k!r} is not documented" for k in sorted(_fields(inner) - allowed)
                ]
    return sorted(set(problems))


def _at(item: Any, dotted: str) -> list[Any]:
    """The objects found at ``a.b`` inside ``item``, stepping through lists."""
    found = [item]
    for part in dotted.split("."):
        step: list[Any] = []
        for value in found:
            inner = value.get(part) if isinstance(value, dict) else None
            step.extend(inner if isinstance(inner, list) else [inner] if isinstance(inner, dict) else [])
        found = step
    return found


def table() -> str:
    """The contract as the Markdown table in ``docs/toggl-api.md``."""
    rows = [
        "| method | path | what the connection uses it for | query parameters documented | body fields documented "
        "| answer fields relied on | documented errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in ENDPOINTS:
        body = ", ".join(sorted(e.body)) + "".join(
            f"; `{k}[]`: {', '.join(sorted(v))}" for k, v in sorted(e.body_nested.items())
        )
        errors = "; ".join(f"{status}: " + " / ".join(f'"{t}"' for t in texts) for status, texts in e.errors.items())
        rows.append(
            f"| {e.method} | `{e.path}` | {e.used_for} | {', '.join(sorted(e.query)) or '-'} | {body or '-'} "
            f"| {', '.join(sorted(e.relies_on)) or '-'} | {errors or '-'} |"
        )
    return "\n".join(rows) + "\n"


def summary() -> dict[str, int]:
    return {
        "endpoints": len(ENDPOINTS),
        "query_parameters": sum(len(e.query) for e in ENDPOINTS),
        "body_fields": sum(len(e.body) + sum(len(v) for v in e.body_nested.values()) for e in ENDPOINTS),
        "error_texts": sum(len(t) for e in ENDPOINTS for t in e.errors.values()),
    }


BEGIN, END = "<!-- contract table: begin (make docs) -->\n", "<!-- contract table: end -->\n"


def document_with_table(text: str) -> str:
    """``text`` (docs/toggl-api.md) with the table between its markers made current."""
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return head + BEGIN + table() + END + tail
