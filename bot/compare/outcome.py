"""A finished comparison, typed: what each candidate produced and the verdict on it.

It rides in the comparison's RESULT event and `Prompt.result` (as `RunResult.extra
["comparison"]`), so every renderer, the merge request and `pick` read one value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from bot.core.stored import JsonObject, Maybe, Records, Text, dump, load
from bot.sessions.prompts import Action, Prompt, PromptState
from bot.sessions.results import RunResult


@dataclass(frozen=True)
class CandidateOutcome:
    number: int  # from 1, as people pick it
    label: Text = ""  # as named: "sonnet", "claude-code"
    state: PromptState = PromptState.FAILED  # done, failed or cancelled
    result: Maybe[RunResult] = None  # files, tokens, cost, time, checks, its checkpoint
    summary: Text = ""  # what the agent said it did, or why it failed
    verdict: Text = ""  # one line: "✅ checks pass · cheapest"

    @property
    def commit(self) -> str | None:
        return self.result.commit if self.result is not None else None

    @property
    def checks_passed(self) -> bool | None:
        report = self.result.check_report if self.result is not None else None
        return None if report is None else report.passed

    def to_dict(self) -> JsonObject:
        return dump(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> CandidateOutcome:
        return load(cls, data)


@dataclass(frozen=True)
class Comparison:
    candidates: Records[CandidateOutcome] = ()
    base_commit: Text = ""  # the session's checkpoint every candidate started from
    picked: int | None = None
    picked_by: Maybe[str] = None  # a display name

    def candidate(self, number: int) -> CandidateOutcome | None:
        return next((c for c in self.candidates if c.number == number), None)

    def with_verdicts(self) -> Comparison:
        """Each candidate's verdict: its checks and, among those that finished with no
        failing check, which is cheapest, fastest and smallest."""
        finished = [  # the marks compare only the candidates one could pick as they are
            c
            for c in self.candidates
            if c.state is PromptState.DONE and c.result and c.checks_passed is not False
        ]
        marks: dict[int, list[str]] = {c.number: [] for c in self.candidates}
        if len(finished) > 1:
            for word, value in (
                ("cheapest", lambda c: c.result.cost_usd),
                ("fastest", lambda c: c.result.duration_s),
                ("smallest change", lambda c: _lines(c.result)),
            ):
                figures = [(value(c), c.number) for c in finished]
                best = min(figures)
                if sum(1 for f, _ in figures if f == best[0]) == 1 and best[0] > 0:
                    marks[best[1]].append(word)
        verdicts = []
        for c in self.candidates:
            verdicts.append(replace(c, verdict=_verdict(c, marks[c.number])))
        return replace(self, candidates=tuple(verdicts))

    def to_dict(self) -> JsonObject:
        return dump(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Comparison:
        return load(cls, data)

    @classmethod
    def of(cls, result: RunResult | None) -> Comparison | None:
        """The comparison a comparison's result carries (None for any other result)."""
        data = result.extra.get("comparison") if result is not None else None
        return cls.from_dict(data) if isinstance(data, dict) else None


def _lines(result: RunResult | None) -> int:
    return sum(max(0, f.added) + max(0, f.removed) for f in result.files) if result else 0


def _verdict(candidate: CandidateOutcome, marks: list[str]) -> str:
    if candidate.state is PromptState.CANCELLED:
        return "⏹️ cancelled"
    if candidate.state is PromptState.FAILED:
        return "❌ failed" + (" (partial work kept)" if candidate.commit else "")
    if candidate.result is None or not candidate.result.files:
        return "➖ changed nothing"
    passed = candidate.checks_passed
    checks = {True: "✅ checks pass", False: "❌ checks fail", None: "no checks"}[passed]
    return " · ".join([checks, *marks])


def adopted(prompt: Prompt) -> bool:
    """Whether an item's changes went onto the work branch: a run, or a comparison someone
    picked from (the prompts the agent and the merge request hear about)."""
    if prompt.action is Action.RUN:
        return True
    comparison = Comparison.of(prompt.result) if prompt.action is Action.COMPARE else None
    return comparison is not None and comparison.picked is not None
