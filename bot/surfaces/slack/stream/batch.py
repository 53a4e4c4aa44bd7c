"""What piled up for a stream's next call, in order: the agent's words and the newest state
of each task card.

Words run together into one markdown chunk, split to Slack's size only when taken; a
card's pending update is replaced by its newer one rather than sent twice. A batch Slack
could not take now (a 429, an outage) goes back in front, ahead of what came since.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slack_sdk.models.messages.chunk import MarkdownTextChunk, TaskUpdateChunk

from bot.surfaces.slack.stream.values import Chunk, chunk_from_dict, markdown_chunks


class Batch:
    def __init__(self, chunks: list[Chunk] | None = None) -> None:
        self.chunks: list[Chunk] = chunks or []

    def __bool__(self) -> bool:
        return bool(self.chunks)

    def text(self, markdown: str) -> None:
        last = self.chunks[-1] if self.chunks else None
        if isinstance(last, MarkdownTextChunk):
            self.chunks[-1] = MarkdownTextChunk(text=last.text + markdown)
        else:
            self.chunks.append(MarkdownTextChunk(text=markdown))

    def task(self, chunk: TaskUpdateChunk) -> None:
        for i, pending in enumerate(self.chunks):
            if isinstance(pending, TaskUpdateChunk) and pending.id == chunk.id:
                self.chunks[i] = chunk
                return
        self.chunks.append(chunk)

    def take(self) -> list[Chunk]:
        """Everything, emptied, with markdown split to Slack's chunk size."""
        taken: list[Chunk] = []
        for chunk in self.chunks:
            if isinstance(chunk, MarkdownTextChunk):
                taken.extend(markdown_chunks(chunk.text))
            else:
                taken.append(chunk)
        self.chunks = []
        return taken

    def put_back(self, chunks: list[Chunk]) -> None:
        self.chunks = chunks + self.chunks

    def to_dicts(self) -> list[dict[str, object]]:
        return [chunk.to_dict() for chunk in self.chunks]

    @classmethod
    def from_dicts(cls, data: Sequence[Mapping[str, object]]) -> Batch:
        return cls([chunk for d in data if (chunk := chunk_from_dict(d)) is not None])


def task_ids(chunks: list[Chunk]) -> set[str]:
    return {chunk.id for chunk in chunks if isinstance(chunk, TaskUpdateChunk)}
