"""A review's findings as the built-in agent reports them: the `report_finding` tool.

The model's input is untrusted: it is checked here (strict pydantic, unknown fields
refused) and a bad call becomes an error result the model reads and can correct. Where a
finding lands (an inline comment or the summary) is decided later, against the real diff.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.agents.file_tools import ToolFailure

if TYPE_CHECKING:  # types only: the SDK loads where a model is called, not in every process
    from anthropic.types import ToolParam

MAX_MESSAGE = 4_000
MAX_REPLACEMENT = 20_000


class Severity(StrEnum):
    BLOCKER = "blocker"
    MAJOR = "major"
    MINOR = "minor"
    NIT = "nit"


SEVERITIES: tuple[Severity, ...] = tuple(Severity)


@dataclass(frozen=True)
class Finding:
    """One problem on the new side of the diff: lines `start_line`..`line` of `path`."""

    path: str
    line: int
    severity: Severity
    message: str
    start_line: int | None = None  # None: the finding is on `line` alone
    replacement: str | None = None  # the new text of those lines, if the reviewer has one

    @property
    def first(self) -> int:
        return self.start_line if self.start_line is not None else self.line

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "start_line": self.start_line,
            "severity": self.severity.value,
            "message": self.message,
            "replacement": self.replacement,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(**ReportFinding.model_validate(data).model_dump())


class ReportFinding(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    path: str = Field(min_length=1, max_length=1_000)
    line: int = Field(ge=1)
    start_line: int | None = Field(None, ge=1)
    severity: Severity = Field(strict=False)
    message: str = Field(min_length=1, max_length=MAX_MESSAGE)
    replacement: str | None = Field(None, max_length=MAX_REPLACEMENT)

    @model_validator(mode="after")
    def _range(self) -> ReportFinding:
        if self.start_line is not None and self.start_line > self.line:
            raise ValueError("start_line must not be after line")
        return self


FINDING_TOOL: ToolParam = {
    "name": "report_finding",
    "description": (
        "Report one problem in the change, on the NEW side of the diff (line numbers of the "
        "file as it is now in the checkout). Call it once per problem; say nothing twice. "
        "Give `replacement` only when you can write the exact new text of lines "
        "start_line..line (it becomes a one-click suggestion)."
    ),
    "input_schema": {
        "type": "object",
        "properties": {
            "path": {"type": "string", "description": "File path relative to the repository root"},
            "line": {"type": "integer", "description": "Last (or only) line of the finding"},
            "start_line": {
                "type": "integer",
                "description": "First line, when the finding spans several lines",
            },
            "severity": {"type": "string", "enum": [s.value for s in SEVERITIES]},
            "message": {"type": "string", "description": "What is wrong and why, briefly"},
            "replacement": {
                "type": "string",
                "description": "The exact new text for lines start_line..line (optional)",
            },
        },
        "required": ["path", "line", "severity", "message"],
    },
}

DIFF_TOOL: ToolParam = {
    "name": "read_diff",
    "description": "The diff of one changed file, when the whole diff was too long to include.",
    "input_schema": {
        "type": "object",
        "properties": {"path": {"type": "string", "description": "A changed file's path"}},
        "required": ["path"],
    },
}


def check_finding(raw: dict[str, object], problem: str | None) -> Finding:
    """The model's call as a `Finding`, or `ToolFailure` saying what to correct."""
    if problem:
        raise ToolFailure(f"The input for report_finding was not valid JSON ({problem}).")
    try:
        found = ReportFinding.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "input"
        raise ToolFailure(f"report_finding: `{where}`: {first['msg']}.") from None
    return Finding(
        found.path.strip().removeprefix("./"),
        found.line,
        found.severity,
        found.message.strip(),
        found.start_line if found.start_line != found.line else None,
        found.replacement,
    )
