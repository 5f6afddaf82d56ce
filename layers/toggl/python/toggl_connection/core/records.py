"""The records the connection keeps in its one DynamoDB table, by kind, under the key prefixes
that tell the kinds apart.

The table is the template's ``IdempotencyTable`` (its name reaches the functions as
``IDEMPOTENCY_TABLE_NAME``): it holds more than idempotency records, but a new logical id would
make CloudFormation replace a deployed stack's table, so the template keeps the name and the code
calls it the records table. Each function's IAM policy lets it touch only the items whose key
starts with the prefixes of the kinds it keeps (``dynamodb:LeadingKeys``, ``LEADING_KEYS``).
"""

from __future__ import annotations

# 1. One change, one event: the exactly-once record of each change put on the bus (Powertools
#    idempotency writes "toggl-event#<hash>"), shared by the webhooks, the poller and the catch-up.
CHANGE_EVENTS = "toggl-event"
# 2. One action, one write: the idempotency record of each action call, one prefix per action
#    (Powertools writes "action:create-client#<hash>").
ACTIONS = "action:"
# 3. Requests whose outcome Toggl left unknown, remembered by content beside the action's keys.
UNKNOWN_OUTCOME = "{action_prefix}#unknown:{fingerprint}"
# 3b. Requests answered by their content whatever idempotency key they carry (an invitation is
#    never sent twice by accident): Powertools writes "action:create-user-invitation:same#<hash>".
SAME_CONTENT = "{action_prefix}:same"
# 4. The workspace poller's baseline: the workspace ids it has seen.
WORKSPACE_POLLER_SEEN = "workspace-poller#seen"
# 5. The catch-up's state per workspace (how far it has read), and the time entries it has seen.
CATCH_UP_STATE = "catch-up#state:{workspace}"
CATCH_UP_SEEN = "catch-up#seen:{workspace}:time_entry:{entity_id}"
# 6. The triggers the last subscription sync could not subscribe (what the health check expects).
SUBSCRIPTION_GAPS = "subscriptions#gaps:{workspace}:{owner}"

# The key patterns a function's policy grants, by the kind of record it keeps.
LEADING_KEYS = {
    "change events": f"{CHANGE_EVENTS}#*",
    "actions": f"{ACTIONS}*",
    "workspace poller": "workspace-poller#*",
    "catch-up": "catch-up#*",
    "subscriptions": "subscriptions#*",
}


def action(name: str) -> str:
    """The key prefix of one action's records (its idempotency keys and unknown outcomes)."""
    return f"{ACTIONS}{name}"


def same_content(name: str) -> str:
    """The key prefix of one action's records kept by content (under the action's own prefix)."""
    return SAME_CONTENT.format(action_prefix=action(name))
