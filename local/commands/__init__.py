"""What the make targets run: ``make run`` (the local stack), ``make demo``, ``make post``,
``make doctor``, ``make agent-demo`` and ``make mcp-proxy``."""
