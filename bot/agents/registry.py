"""Which agent a setting means: `anthropic` (the built-in loop), `command` (a CLI agent) or
`demo` (fixed rules, no model: Repobox's whole flow with no account).

Each agent is imported only when chosen, so a worker running one never loads the other.
"""

from __future__ import annotations

from bot.agents.base import Agent
from bot.core.config import Settings


def make_agent(settings: Settings) -> Agent:
    if settings.agent == "command":
        from bot.agents.command import CommandAgent

        return CommandAgent(settings)
    if settings.agent == "demo":
        from bot.agents.demo import DemoAgent

        return DemoAgent(settings)
    from bot.agents.anthropic import AnthropicAgent

    return AnthropicAgent(settings)
