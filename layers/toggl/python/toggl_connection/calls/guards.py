"""The stack's limits on what callers may ask of Toggl, checked before any request is spent."""

from __future__ import annotations

from typing import Any

from toggl_connection.core.errors import WorkspaceNotAllowed
from toggl_connection.core.settings import Settings


def workspace_allowed(config: Settings, workspace_id: int | None) -> None:
    """Refuse a workspace outside ``AllowedWorkspaceIds`` (empty: any workspace)."""
    if config.allowed_workspace_ids and workspace_id not in config.allowed_workspace_ids:
        raise WorkspaceNotAllowed(
            f"Workspace {workspace_id} is not one this stack may act on (its AllowedWorkspaceIds parameter)."
        )


def only_allowed(config: Settings, items: list[Any], field: str) -> list[Any]:
    """The items of a list that belong to allowed workspaces (all of them when any is allowed)."""
    if not config.allowed_workspace_ids:
        return items
    return [item for item in items if isinstance(item, dict) and item.get(field) in config.allowed_workspace_ids]
