"""The calls as tools for AI agents: one tool list, served over MCP and to Bedrock Agents and
AgentCore Gateway."""
