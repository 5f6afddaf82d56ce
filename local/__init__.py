"""Running the connection on one machine: the SAM template read as SAM would read it, API
Gateway events built as API Gateway builds them, and sample Toggl deliveries."""
