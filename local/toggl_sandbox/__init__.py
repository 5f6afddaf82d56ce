"""A Toggl Track look-alike on loopback, for tests and ``make run``.

``server`` holds the HTTP machinery (routing, Basic auth, quota, faults); each API family is a
module of its own that registers its routes (``track``: the Track API v9). A new family is a new
module, not an edit of a giant one.
"""

from local.toggl_sandbox.server import Fault, Sandbox, TogglError
from local.toggl_sandbox.state import World

__all__ = ["Fault", "Sandbox", "TogglError", "World"]
