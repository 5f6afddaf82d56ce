"""Toggl Track Connection: the code every Lambda function of the connection shares.

What each folder and module holds is in the folder map (docs/developing.md). This list is the
order they import in: each folder only from itself and those listed before it (a test holds
every module to it).

- ``core``: the platform.
- ``toggl``: the Toggl API.
- ``bus``: EventBridge.
- ``webhooks``: Toggl's deliveries.
- ``calls``: the actions and queries.
- ``upkeep``: the scheduled and deploy-time jobs.
- ``agents``: the tools for AI agents.

Handlers in ``functions/`` only wire these together.
"""
