"""What a streamed reply is made of: where it goes, its task cards, and Slack's size limits.

Slack's streaming methods take chunks: `markdown_text` (up to 12,000 characters a chunk)
and `task_update` cards whose title, details and output hold up to 256 characters each.
These values clip and split to those limits, so a long command line or a chatty agent
never turns into an `invalid_chunks` that loses a whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

MAX_MARKDOWN = 12_000
MAX_TASK_TEXT = 256

Chunk = dict[str, Any]


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
    def is_dm(self) -> bool:
        return self.channel.startswith("D")

    def start_args(self) -> dict[str, str]:
        args = {"channel": self.channel, "thread_ts": self.thread_ts}
        if self.user_id and self.team_id:
            args |= {"recipient_user_id": self.user_id, "recipient_team_id": self.team_id}
        return args

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "thread_ts": self.thread_ts,
            "team_id": self.team_id,
            "user_id": self.user_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StreamTarget:
        return cls(
            channel=str(data["channel"]),
            thread_ts=str(data["thread_ts"]),
            team_id=data.get("team_id"),
            user_id=data.get("user_id"),
        )


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status.value,
            "details": self.details,
            "output": self.output,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskUpdate:
        return cls(
            id=str(data["id"]),
            title=str(data["title"]),
            status=TaskStatus(data["status"]),
            details=data.get("details"),
            output=data.get("output"),
        )

    def with_status(self, status: TaskStatus, details: str | None = None) -> TaskUpdate:
        return TaskUpdate(self.id, self.title, status, details or self.details, self.output)

    def to_chunk(self) -> Chunk:
        chunk: Chunk = {
            "type": "task_update",
            "id": clip(self.id, MAX_TASK_TEXT),
            "title": clip(self.title, MAX_TASK_TEXT),
            "status": self.status.value,
        }
        if self.details:
            chunk["details"] = clip(self.details, MAX_TASK_TEXT)
        if self.output:
            chunk["output"] = clip(self.output, MAX_TASK_TEXT)
        return chunk


def markdown_chunks(text: str) -> list[Chunk]:
    """`text` as markdown chunks of at most 12,000 characters, cut at line ends if it can."""
    chunks: list[Chunk] = []
    while text:
        piece = text[:MAX_MARKDOWN]
        if len(text) > MAX_MARKDOWN and "\n" in piece:
            piece = piece[: piece.rindex("\n") + 1]
        chunks.append({"type": "markdown_text", "text": piece})
        text = text[len(piece) :]
    return chunks
