"""What a streamed reply is made of: where it goes, its task cards, and Slack's size limits.

Slack's streaming methods take chunks (slack_sdk's `MarkdownTextChunk`, up to 12,000
characters, and `TaskUpdateChunk`, cards whose title, details and output hold up to 256
characters each). These values clip and split to those limits, so a long command line or
a chatty agent never turns into an `invalid_chunks` that loses a whole batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel
from slack_sdk.models.messages.chunk import Chunk as SdkChunk
from slack_sdk.models.messages.chunk import MarkdownTextChunk, TaskUpdateChunk

MAX_MARKDOWN = 12_000
MAX_TASK_TEXT = 256

Chunk = MarkdownTextChunk | TaskUpdateChunk


class Outcome(StrEnum):
    """Where a streamed reply stands."""

    NEW = "new"
    STREAMING = "streaming"
    FALLBACK = "fallback"  # render this reply as an edited message instead
    STOPPED = "stopped"
    FAILED = "failed"  # the final state could not be delivered (logged)


@dataclass(frozen=True)
class Fallback:
    """Why the reply is not streamed: Slack's error code, and whether it was remembered."""

    code: str
    remembered: bool


class TaskStatus(StrEnum):
    """A task card's state; Slack has no "cancelled", so a cancelled step ends as ERROR."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"
    ERROR = "error"

    @property
    def open(self) -> bool:
        return self in (TaskStatus.PENDING, TaskStatus.IN_PROGRESS)


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, marked with an ellipsis when it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class StreamTarget:
    """Where a stream goes: a reply in `thread_ts`, shown to the person who asked.

    Slack requires the recipient (user and team) to stream anywhere but a DM; the person
    who sent the prompt is the one to name."""

    channel: str
    thread_ts: str
    team_id: str | None = None
    user_id: str | None = None

    def __post_init__(self) -> None:
        if not self.channel or not self.thread_ts:
            raise ValueError("a stream needs a channel and the thread it answers")

    @property
    def recipient(self) -> tuple[str | None, str | None]:
        """(user, team) to stream to, both or neither (a DM needs none)."""
        if self.user_id and self.team_id:
            return self.user_id, self.team_id
        return None, None


@dataclass(frozen=True)
class TaskUpdate:
    """One card's new state: a tool call, an edit, a command, a check. `id` names the card;
    a later update with the same id changes it in place."""

    id: str
    title: str
    status: TaskStatus = TaskStatus.IN_PROGRESS
    details: str | None = None
    output: str | None = None

    def __post_init__(self) -> None:
        if not self.id.strip() or not self.title.strip():
            raise ValueError("a task needs an id and a title")

    def with_status(self, status: TaskStatus, details: str | None = None) -> TaskUpdate:
        return TaskUpdate(self.id, self.title, status, details or self.details, self.output)

    def to_chunk(self) -> TaskUpdateChunk:
        return TaskUpdateChunk(
            id=clip(self.id, MAX_TASK_TEXT),
            title=clip(self.title, MAX_TASK_TEXT),
            status=self.status.value,
            details=clip(self.details, MAX_TASK_TEXT) if self.details else None,
            output=clip(self.output, MAX_TASK_TEXT) if self.output else None,
        )


def markdown_chunks(text: str) -> list[MarkdownTextChunk]:
    """`text` as markdown chunks of at most 12,000 characters, cut at line ends if it can."""
    chunks: list[MarkdownTextChunk] = []
    while text:
        piece = text[:MAX_MARKDOWN]
        if len(text) > MAX_MARKDOWN and "\n" in piece:
            piece = piece[: piece.rindex("\n") + 1]
        chunks.append(MarkdownTextChunk(text=piece))
        text = text[len(piece) :]
    return chunks


def chunk_from_dict(data: Mapping[str, object]) -> Chunk | None:
    """A pending chunk as a writer's snapshot keeps it (`chunk.to_dict()`), read back by
    slack_sdk's own parser; None for a kind a writer never sends."""
    chunk = SdkChunk.parse(dict(data))
    return chunk if isinstance(chunk, MarkdownTextChunk | TaskUpdateChunk) else None


class Snapshot(BaseModel):
    """A streamed reply's writer as JSON, kept between relay passes so that any worker can
    go on with it: what was sent where, and what is still to send."""

    target: StreamTarget
    outcome: Outcome
    fallback: Fallback | None = None
    messages: list[str] = []  # the ts of every message streamed into
    tasks: list[TaskUpdate] = []
    pending: list[dict[str, object]] = []  # chunks, as `chunk.to_dict()` wrote them
    started_at: float = 0.0
    next_at: float = 0.0
    slot: str | None = None  # the token of the open stream's reserved stop (`StreamSlots`)
