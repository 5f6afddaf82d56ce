"""The ``toggl-connection`` command: an operator's tool run on a workstation (subscriptions,
doctor), not Lambda code, so it lives outside the layer and imports it like any other client."""
