"""Agents: `command` (an external CLI agent, streamed) and `anthropic` (the built-in loop);
`registry.make_agent` picks one from the settings."""
