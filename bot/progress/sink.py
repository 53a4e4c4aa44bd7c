"""What the relay asks of a surface: show events, land held-back edits, finish.

Each call is one `Turn`: the relay loads where the surface shows the session
(`Placements`) before it, saves them after it, and holds the session's lock throughout,
so a sink keeps no lock, starts no thread and reads or writes no store of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, Protocol

from bot.progress.placements import Keep, P, Placements, S
from bot.progress.shared import Shared
from bot.sessions.events import ProgressEvent
from bot.sessions.prompts import Prompt
from bot.sessions.session import Session, Thread

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


def _nothing() -> None:
    return None


@dataclass
class Turn(Generic[P, S]):
    """One call of the relay into a sink: the session as it is now, where the surface
    shows it (changed in place; saved after the call), and what outlives the session.

    A sink changes no domain state: when it has just made the session's thread (Slack
    posts the parent message of a `/repobox new`), it sets `moved` and the relay binds it.
    When a final state could not be sent within the surface's pacing bound, it sets
    `deferred`: the message stays stale and the relay asks for a follow-up relay job,
    rather than holding the worker.
    """

    session: Session
    placements: Placements[P, S]
    shared: Shared
    keep: Keep = _nothing  # save the placements now (after posting what must not repeat)
    moved: Thread | None = None
    deferred: bool = False


class ProgressSink(Protocol[P, S]):
    """A surface's outbound side. `placement` and `fields` are the types of what it
    remembers per prompt and per session (`Record`s)."""

    placement: type[P]
    fields: type[S]

    def deliver(self, turn: Turn[P, S], events: list[ProgressEvent], prompts: Prompts) -> None:
        """Show these events on the surface (they arrive in order, each once)."""
        ...

    def tick(self, turn: Turn[P, S], now: float) -> None:
        """Land edits that were held back and whose turn has come (called when quiet)."""
        ...

    def close(self, turn: Turn[P, S]) -> None:
        """Make sure the final state of every message has landed."""
        ...
