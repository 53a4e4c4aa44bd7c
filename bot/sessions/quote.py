"""One person's words as the agent is shown them (a comment, a note of a discussion)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from bot.core.stored import JsonObject, Text, dump, load, text_or

Author = Annotated[str, text_or("someone")]  # stored without one: "someone" said it


@dataclass(frozen=True)
class Quote:
    author: Author = "someone"  # the username a mention would use
    body: Text = ""  # what people can see (hidden markup already stripped)

    def to_dict(self) -> JsonObject:
        return dump(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Quote:
        return load(cls, data)
