"""The token's user (``GET /me``), looked up once per container and token: ``/me`` counts against
the 30 requests an hour that every plan allows for it. Its token field is never kept."""

from __future__ import annotations

from typing import Any

from toggl_connection.core.errors import ConfigurationError
from toggl_connection.core.integers import ascii_int
from toggl_connection.toggl.client import V9, TogglClient

_users: dict[tuple[str, str], dict[str, Any]] = {}


def me(toggl: TogglClient) -> dict[str, Any]:
    key = (toggl.base_url, toggl.identity)
    if key not in _users:
        data = toggl.get(f"{V9}/me").data
        _users[key] = {k: v for k, v in data.items() if k != "api_token"} if isinstance(data, dict) else {}
    return _users[key]


def user_id(toggl: TogglClient) -> int | None:
    return ascii_int(me(toggl).get("id"))


def default_workspace_id(toggl: TogglClient) -> int | None:
    return ascii_int(me(toggl).get("default_workspace_id"))


def workspace_id(toggl: TogglClient, configured: int | None) -> int:
    """The stack's workspace: ``DefaultWorkspaceId`` when set, else the token user's default."""
    found = configured or default_workspace_id(toggl)
    if not found:
        raise ConfigurationError("No workspace to work in: set the stack's DefaultWorkspaceId.")
    return found


def forget_user() -> None:
    _users.clear()
