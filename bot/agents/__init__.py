"""Agents: `command` (an external CLI agent, streamed) and `anthropic` (the built-in loop)."""

from __future__ import annotations

from bot.agents.base import Agent, RunControl, RunRequest
from bot.config import Settings

__all__ = ["Agent", "RunControl", "RunRequest", "make_agent"]


def make_agent(settings: Settings) -> Agent:
    if settings.agent == "command":
        from bot.agents.command import CommandAgent

        return CommandAgent(settings)
    from bot.agents.anthropic import AnthropicAgent

    return AnthropicAgent(settings)
