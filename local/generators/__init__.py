"""What writes checked-in files: ``make events`` (events/), ``make docs`` (the Toggl contract
table of docs/toggl-api.md) and ``make layer-hashes`` (layers/toggl/requirements.txt)."""
