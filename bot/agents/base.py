"""The agent interface: run one prompt in a workdir, yielding progress events as it goes.

Agents only emit events; the job that runs them stores the events, commits the
checkpoint and relays progress. Cancel and the time limit arrive through `RunControl`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Required, TypedDict

from bot.agents.attachments import Attachment
from bot.core.mcp_servers import McpServer
from bot.processes.control import RunControl
from bot.sessions.events import ProgressEvent
from bot.sessions.origin import Origin
from bot.sessions.prompts import Prompt
from bot.sessions.session import Person, Session


@dataclass(frozen=True)
class RunRequest:
    prompt: str
    workdir: Path
    session: Session
    author: Person
    history: tuple[Prompt, ...] = ()  # earlier prompts of the session, with their summaries
    origin: Origin | None = None  # the comment/review this came from
    egress_hosts: tuple[str, ...] = ()  # hosts `.repobox.yml` adds to the allow-list
    attachments: tuple[Attachment, ...] = ()  # files attached to the prompt, fetched
    mcp_servers: tuple[McpServer, ...] = ()  # the repository's, from `.repobox.yml`


class Tokens(TypedDict):
    """What a model used: tokens by kind and their price in USD."""

    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float


class Figures(Tokens, total=False):
    """An agent's RESULT data: what the run used. The job adds its own (files, diffstat);
    `bot.sessions.results.RunResult` reads the whole."""

    turns: Required[int]
    model: str  # the built-in agent's model …
    cost_known: bool  # … and whether it has a price for it
    agent_duration_s: float  # Claude Code's own figures
    api_duration_s: float
    models: dict[str, Tokens]
    permission_denials: int


class Agent(Protocol):
    name: str

    def run(self, request: RunRequest, control: RunControl) -> Iterator[ProgressEvent]:
        """Yield steps, output and text; end with a RESULT event (summary, tokens, cost),
        or raise `AgentError` with a message for people. Stop promptly when told to."""
        ...
