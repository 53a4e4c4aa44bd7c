"""What a check run produced: typed results a later step renders and stores (JSON only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Annotated

from pydantic import PlainSerializer

from bot.core.stored import JsonObject, Maybe, Text, dump, load


class CheckStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # ran and exited non-zero
    TIMED_OUT = "timed_out"
    ERROR = "error"  # could not run: setup failed, the command could not start
    SKIPPED = "skipped"  # no changed file matched its `paths`
    CANCELLED = "cancelled"

    @property
    def ok(self) -> bool:
        """Does this status let a required check pass the gate?"""
        return self in (CheckStatus.PASSED, CheckStatus.SKIPPED)


VERDICT = {
    CheckStatus.PASSED: ("✅", "passed"),
    CheckStatus.FAILED: ("❌", "failed"),
    CheckStatus.TIMED_OUT: ("⏱️", "timed out"),
    CheckStatus.ERROR: ("⚠️", "could not run"),
    CheckStatus.SKIPPED: ("⏭️", "skipped"),
    CheckStatus.CANCELLED: ("⏹️", "cancelled"),
}


Seconds = Annotated[float, PlainSerializer(lambda seconds: round(seconds, 3))]  # stored to the ms


@dataclass(frozen=True)
class CheckStarted:
    """A check (or the setup, `name="setup"`) begins: a later step shows it as running."""

    name: str
    setup: bool = False


@dataclass(frozen=True)
class EgressRefused:
    """The network allow-list turned a setup or check command away from `host` (once per
    host per run): a warning step names it."""

    name: str  # the setup or check whose command asked
    host: str


@dataclass(frozen=True)
class CheckResult:
    name: Text
    status: CheckStatus
    required: bool
    duration: Seconds = 0.0
    exit_code: int | None = None
    tail: Text = ""  # the last lines, for the thread
    output: Text = ""  # the whole output (head and tail when long), for the live page
    reason: Text = ""  # why skipped, timed out or not run, for people
    setup: bool = False  # the setup commands, not a check

    @property
    def blocks(self) -> bool:
        """A required check that did not pass blocks "ship it"."""
        return self.required and not self.status.ok

    def verdict(self) -> str:
        """One line for the run's reply: `❌ tests failed (exit 1, 3.2 s)`."""
        icon, word = VERDICT[self.status]
        bits = [f"exit {self.exit_code}"] if self.status is CheckStatus.FAILED else []
        if self.status not in (CheckStatus.SKIPPED, CheckStatus.CANCELLED):
            bits.append(f"{self.duration:.1f} s" if self.duration >= 0.1 else "<0.1 s")
        detail = f" ({', '.join(bits)})" if bits else ""
        reason = f": {self.reason}" if self.reason else ""
        optional = "" if self.required or self.setup else " · optional"
        return f"{icon} {self.name} {word}{detail}{reason}{optional}"

    def to_dict(self) -> JsonObject:
        return dump(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> CheckResult:
        return load(cls, data)


@dataclass(frozen=True)
class CheckReport:
    """All checks on one commit; `setup` is None when the setup was already done here."""

    commit: Text
    results: tuple[CheckResult, ...] = ()
    setup: Maybe[CheckResult] = None
    setup_cached: bool = False  # the workdir's setup was reused, not run again
    source: Text = ""  # where the config came from: "main@1a2b3c4d5e"

    @property
    def passed(self) -> bool:
        """No required check blocks (an empty report passes: nothing was declared)."""
        return not self.blocking

    @property
    def blocking(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if r.blocks)

    @property
    def duration(self) -> float:
        """Seconds the checks (and the setup, when it ran) added to the run."""
        setup = self.setup.duration if self.setup is not None else 0.0
        return setup + sum(r.duration for r in self.results)

    def verdicts(self) -> list[str]:
        """One line per check (the setup first when it failed), for the end of the reply."""
        lines = [self.setup.verdict()] if self.setup and not self.setup.status.ok else []
        return lines + [r.verdict() for r in self.results]

    def without_outputs(self) -> CheckReport:
        """As a run's result keeps it: the whole outputs stay on the STEP events."""
        setup = replace(self.setup, output="") if self.setup is not None else None
        results = tuple(replace(r, output="") for r in self.results)
        return replace(self, results=results, setup=setup)

    def to_dict(self) -> JsonObject:
        """Its fields and, for readers that do not judge, whether it `passed`."""
        return {**dump(self), "passed": self.passed}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> CheckReport:
        return load(cls, data)


def failures_prompt(report: CheckReport) -> str:
    """The prompt that hands failing required checks back to the agent."""
    parts = ["The required checks fail on the latest commit. Make them pass."]
    for result in report.blocking:
        parts.append(f"Check `{result.name}`: {result.verdict()}\nLast lines:\n{result.tail}")
    return "\n\n".join(parts)
