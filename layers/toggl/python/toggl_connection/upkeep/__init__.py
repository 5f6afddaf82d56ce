"""The jobs that keep the connection whole: webhook subscriptions (planned and synced, at deploy
and on a schedule), the workspace poller and the catch-up."""
