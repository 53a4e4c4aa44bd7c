"""The merge/pull request a session opened when it shipped (`Session.merge_request`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MergeRequestRef:
    url: str
    number: int | None = None  # None: a host without numbers (never so far, but tolerated)

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "number": self.number}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> MergeRequestRef | None:
        """None for nothing stored (or a stored value without a URL)."""
        if not data or not data.get("url"):
            return None
        number = data.get("number")
        return cls(url=str(data["url"]), number=int(number) if number is not None else None)
