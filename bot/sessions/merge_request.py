"""The merge/pull request a session opened when it shipped (`Session.merge_request`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.stored import JsonObject, Text, dump, load


@dataclass(frozen=True)
class MergeRequestRef:
    url: Text
    number: int | None = None  # None: a host without numbers (never so far, but tolerated)

    def to_dict(self) -> JsonObject:
        return dump(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object] | None) -> MergeRequestRef | None:
        """None for nothing stored (or a stored value without a URL)."""
        return load(cls, data) if data and data.get("url") else None
