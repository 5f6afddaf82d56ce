"""Running the connection on one machine, by role: ``emulator`` (SAM and AWS: the template read
as SAM reads it, moto, the Lambda runtime, API Gateway's events and SigV4, the local API),
``toggl_sandbox`` (Toggl: its APIs, and its webhook deliveries), ``generators`` (what writes
the checked-in events/, docs table and layer hashes) and ``commands`` (what the make targets
run). Each imports only those before it."""
