"""Amazon EventBridge: the event format on the bus, the publisher, and the exactly-once records."""
