"""What a finished run or ship produced, typed: the RESULT/SHIPPED event's data and
`Prompt.result` are this one value, so every renderer reads the same named fields.

Agents report figures of their own (turns, models, refused tool calls); those ride along
in `extra`, kept as reported, so nothing an agent said is lost on the way to the log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.checks.results import CheckReport

TOKENS_SUFFIX = "_tokens"
_NAMED = frozenset(
    {"files", "diffstat", "session_diffstat", "duration_s", "commit", "cost_usd"}
    | {"branch", "url"}
)


@dataclass(frozen=True)
class FileLine:
    """One changed file of a run: lines added and removed (-1 for a binary file)."""

    path: str
    added: int
    removed: int

    @property
    def binary(self) -> bool:
        return self.added < 0 or self.removed < 0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileLine:
        return cls(
            str(data.get("path", "?")), int(data.get("added", 0)), int(data.get("removed", 0))
        )

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "added": self.added, "removed": self.removed}


@dataclass(frozen=True)
class RunResult:
    files: tuple[FileLine, ...] = ()
    diffstat: str = ""  # this run's "2 files changed (+3 −1)"
    session_diffstat: str = ""  # the whole session's, against its base
    duration_s: float = 0.0
    commit: str | None = None  # the checkpoint, when the run changed anything
    cost_usd: float = 0.0
    tokens: dict[str, int] = field(default_factory=dict)  # "input" -> 120, "output" -> 40 …
    branch: str | None = None  # a ship's work branch
    url: str | None = None  # a ship's merge request
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def check_report(self) -> CheckReport | None:
        """The checks on this run's checkpoint (`.repobox.yml`), when any ran."""
        data = self.extra.get("checks")
        return CheckReport.from_dict(data) if isinstance(data, dict) else None

    @property
    def total_tokens(self) -> int:
        return self.tokens.get("input", 0) + self.tokens.get("output", 0)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        tokens = {
            name.removesuffix(TOKENS_SUFFIX): int(value)
            for name, value in data.items()
            if name.endswith(TOKENS_SUFFIX) and isinstance(value, int | float)
        }
        extra = {
            name: value
            for name, value in data.items()
            if name not in _NAMED and not name.endswith(TOKENS_SUFFIX)
        }
        return cls(
            files=tuple(FileLine.from_dict(f) for f in data.get("files") or []),
            diffstat=str(data.get("diffstat") or ""),
            session_diffstat=str(data.get("session_diffstat") or ""),
            duration_s=float(data.get("duration_s") or 0.0),
            commit=data.get("commit") or None,
            cost_usd=float(data.get("cost_usd") or 0.0),
            tokens=tokens,
            branch=data.get("branch") or None,
            url=data.get("url") or None,
            extra=extra,
        )

    def to_dict(self) -> dict[str, Any]:
        """The flat JSON the stream, the live page and the metrics have always read."""
        data: dict[str, Any] = dict(self.extra)
        data.update({f"{name}{TOKENS_SUFFIX}": count for name, count in self.tokens.items()})
        data.update(
            files=[f.to_dict() for f in self.files],
            diffstat=self.diffstat,
            session_diffstat=self.session_diffstat,
            duration_s=self.duration_s,
            commit=self.commit,
            cost_usd=self.cost_usd,
        )
        if self.branch is not None or self.url is not None:
            data.update(branch=self.branch, url=self.url)
        return data
