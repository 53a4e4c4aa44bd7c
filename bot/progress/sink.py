"""What the relay asks of a surface: show events, land held-back edits, finish."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from bot.progress.events import ProgressEvent
from bot.prompts import Prompt
from bot.sessions import Session, Thread

# The longest one sink call may take: a surface's calls that must land (Slack's final
# edits) stop retrying after this, and the relay's lock outlives it.
SINK_CALL_BUDGET = 120.0


@dataclass(frozen=True)
class Prompts:
    """The prompts a batch is about, read by the relay, so a surface reads no store."""

    by_id: Mapping[str, Prompt] = field(default_factory=dict)
    queue: tuple[str, ...] = ()  # the running prompt, then the waiting ones, in order

    def get(self, prompt_id: str) -> Prompt | None:
        return self.by_id.get(prompt_id)

    def ahead_of(self, prompt_id: str) -> list[Prompt]:
        """What runs before `prompt_id`, in order (all of the queue if it is not in it)."""
        ahead = self.queue[: self.queue.index(prompt_id)] if prompt_id in self.queue else self.queue
        return [self.by_id[p] for p in ahead if p in self.by_id]


class ProgressSink(Protocol):
    """A surface's outbound side. The relay calls it under the session's lock, one call
    at a time, so a sink keeps no lock and starts no thread of its own. A sink changes no
    domain state: when it has just made the session's thread (Slack posts the parent
    message of a `/repobox new`), it returns that thread and the relay binds it."""

    def deliver(
        self, session: Session, events: list[ProgressEvent], prompts: Prompts
    ) -> Thread | None:
        """Show these events on the surface (they arrive in order, each once)."""
        ...

    def tick(self, session: Session, now: float) -> Thread | None:
        """Land edits that were held back and whose turn has come (called when quiet)."""
        ...

    def close(self, session: Session) -> Thread | None:
        """Make sure the final state of every message has landed."""
        ...
