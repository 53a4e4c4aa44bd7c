"""What a finished run or ship produced, typed: the RESULT/SHIPPED event's data and
`Prompt.result` are this one value, so every renderer reads the same named fields.

Agents report figures of their own (turns, models, refused tool calls); those ride along
in `extra`, kept as reported, so nothing an agent said is lost on the way to the log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated

from pydantic import model_serializer, model_validator

from bot.checks.results import CheckReport
from bot.core.stored import Amount, JsonObject, Maybe, Records, Text, dump, load, text_or

TOKENS_SUFFIX = "_tokens"
_NAMED = frozenset(
    {"files", "diffstat", "session_diffstat", "duration_s", "commit", "cost_usd"}
    | {"branch", "url"}
)


@dataclass(frozen=True)
class FileLine:
    """One changed file of a run: lines added and removed (-1 for a binary file)."""

    path: Annotated[str, text_or("?")] = "?"
    added: int = 0
    removed: int = 0

    @property
    def binary(self) -> bool:
        return self.added < 0 or self.removed < 0

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> FileLine:
        return load(cls, data)

    def to_dict(self) -> JsonObject:
        return dump(self)


@dataclass(frozen=True)
class RunResult:
    files: Records[FileLine] = ()
    diffstat: Text = ""  # this run's "2 files changed (+3 −1)"
    session_diffstat: Text = ""  # the whole session's, against its base
    duration_s: Amount = 0.0
    commit: Maybe[str] = None  # the checkpoint, when the run changed anything
    cost_usd: Amount = 0.0
    tokens: dict[str, int] = field(default_factory=dict)  # "input" -> 120, "output" -> 40 …
    branch: Maybe[str] = None  # a ship's work branch
    url: Maybe[str] = None  # a ship's merge request
    extra: dict[str, object] = field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _unflatten(cls, data: object) -> object:
        """Stored flat (`to_dict`): the token counts as `<kind>_tokens`, and whatever else
        the agent reported beside the named fields."""
        if not isinstance(data, Mapping):
            return data
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
        named = {name: value for name, value in data.items() if name in _NAMED}
        return {**named, "tokens": tokens, "extra": extra}

    @model_serializer
    def _flatten(self) -> JsonObject:
        """Stored flat inside other values too (a comparison's candidates)."""
        return self.to_dict()

    @property
    def check_report(self) -> CheckReport | None:
        """The checks on this run's checkpoint (`.repobox.yml`), when any ran."""
        data = self.extra.get("checks")
        return CheckReport.from_dict(data) if isinstance(data, dict) else None

    @property
    def total_tokens(self) -> int:
        return self.tokens.get("input", 0) + self.tokens.get("output", 0)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> RunResult:
        return load(cls, data)

    def to_dict(self) -> JsonObject:
        """The flat JSON the stream, the live page and the metrics have always read."""
        data: JsonObject = dict(self.extra)
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
