"""Talking to Toggl: the API client (retries, quota, outcomes), paging, the token's user."""
