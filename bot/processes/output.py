"""A command's output kept bounded: the head (what started) and the tail (how it ended),
which is where test runners print their verdict."""

from __future__ import annotations

HEAD_CHARS = 10_000
TAIL_CHARS = 20_000


class CappedOutput:
    """Everything a command printed, kept as head + tail once it grows past the cap."""

    def __init__(self) -> None:
        self.head: list[str] = []
        self.head_size = 0
        self.tail: list[str] = []
        self.tail_size = 0
        self.dropped = 0

    def add(self, line: str) -> None:
        if self.head_size + len(line) <= HEAD_CHARS and not self.tail:
            self.head.append(line)
            self.head_size += len(line) + 1
            return
        self.tail.append(line)
        self.tail_size += len(line) + 1
        while self.tail_size > TAIL_CHARS and len(self.tail) > 1:
            self.tail_size -= len(self.tail.pop(0)) + 1
            self.dropped += 1

    def text(self) -> str:
        middle = [f"[… {self.dropped} lines omitted …]"] if self.dropped else []
        return "\n".join([*self.head, *middle, *self.tail])
