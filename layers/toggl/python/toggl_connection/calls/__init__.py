"""Actions (writes) and queries (reads) on Toggl: parameters, validation, invocation from an HTTP
request, guards, and the outcomes Toggl left unknown."""
