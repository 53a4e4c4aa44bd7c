"""The agent interface: run one prompt in a workdir, yielding progress events as it goes.

Agents only emit events; the job that runs them stores the events, commits the
checkpoint and relays progress. Cancel and the time limit arrive through `RunControl`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.progress import ProgressEvent
from bot.prompts import Prompt
from bot.sessions import Person, Session
from bot.values import Origin


@dataclass(frozen=True)
class RunRequest:
    prompt: str
    workdir: Path
    session: Session
    author: Person
    history: tuple[Prompt, ...] = ()  # earlier prompts of the session, with their summaries
    origin: Origin | None = None  # the comment/review this came from


class RunControl:
    """Cancel flag and deadline shared between the job's heartbeat and the agent."""

    def __init__(self, time_limit: float) -> None:
        self.cancel_event = threading.Event()
        self.deadline = time.monotonic() + time_limit
        self.time_limit = time_limit
        self.reason = ""

    def cancel(self, reason: str = "cancelled") -> None:
        self.reason = self.reason or reason
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    @property
    def expired(self) -> bool:
        return time.monotonic() > self.deadline

    @property
    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def should_stop(self) -> bool:
        return self.cancelled or self.expired


class Agent(Protocol):
    name: str

    def run(self, request: RunRequest, control: RunControl) -> Iterator[ProgressEvent]:
        """Yield steps, output and text; end with a RESULT event (summary, tokens, cost),
        or raise `AgentError` with a message for people. Stop promptly when told to."""
        ...
