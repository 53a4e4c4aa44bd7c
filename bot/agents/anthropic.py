"""The built-in agent on the Anthropic API (built in its own issue)."""

from __future__ import annotations

from collections.abc import Iterator

from bot.agents.base import RunControl, RunRequest
from bot.config import Settings
from bot.errors import AgentError
from bot.progress import ProgressEvent


class AnthropicAgent:
    name = "anthropic"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def run(self, request: RunRequest, control: RunControl) -> Iterator[ProgressEvent]:
        raise AgentError(
            "The built-in Anthropic agent is not available yet; "
            "set REPOBOX_AGENT=command with REPOBOX_AGENT_COMMAND."
        )
        yield  # pragma: no cover - makes this a generator
