"""One person's words as the agent is shown them (a comment, a note of a discussion)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Quote:
    author: str  # the username a mention would use
    body: str  # what people can see (hidden markup already stripped)

    def to_dict(self) -> dict[str, str]:
        return {"author": self.author, "body": self.body}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Quote:
        return cls(author=str(data.get("author") or "someone"), body=str(data.get("body") or ""))


def quotes(items: object) -> tuple[Quote, ...]:
    """Quotes from a stored list, skipping anything that is not a mapping."""
    if not isinstance(items, list | tuple):
        return ()
    return tuple(Quote.from_dict(i) for i in items if isinstance(i, Mapping))
