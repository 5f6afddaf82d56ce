"""Facts of the contract the tests compare the code with, written out here rather than read from
the code (a test that took them from the code could not fail)."""

from __future__ import annotations

# The detail types of the seven triggers on the bus.
TRIGGERS = frozenset(
    {
        "Time Entry Created",
        "Time Entry Updated",
        "Time Entry Deleted",
        "Project Created",
        "Project Updated",
        "Project Deleted",
        "Workspace Created",
    }
)
