"""Toggl's webhooks received: the signature, the envelope, the trigger routes."""
