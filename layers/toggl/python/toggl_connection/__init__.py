"""Toggl Track Connection: the code every Lambda function of the connection shares.

One folder per concern, imported one way (each only from those listed before it):

- ``core``: settings, secrets, AWS clients, logging and metrics, the error model and the HTTP
  answers it turns into, reading the request, exactly-once records, small parsers.
- ``toggl``: the Toggl API client, paging, the token's user.
- ``bus``: the event format on the bus, publishing.
- ``webhooks``: receiving Toggl's webhooks: signature, envelope, the trigger routes.
- ``calls``: the actions and queries: their parameters and validation, invocation, guards,
  outcomes Toggl left unknown.
- ``upkeep``: the scheduled and deploy-time jobs: webhook subscriptions, the workspace poller,
  the catch-up.
- ``agents``: the same calls as tools for AI agents (MCP, Bedrock Agents, AgentCore Gateway).

Handlers in ``functions/`` only wire these together.
"""
