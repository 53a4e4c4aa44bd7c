"""One candidate of a comparison as people see it, folded from the events tagged with it.

A comparison is one prompt; each candidate's events carry `data.candidate` (its number), so
its steps, checks and end fold here instead of ending the prompt (`PromptView.apply`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.sessions.events import EventKind, ProgressEvent
from bot.sessions.prompts import ENDINGS, PromptState
from bot.sessions.results import RunResult

STEP_CHARS = 200


@dataclass
class CandidateView:
    number: int
    label: str
    state: PromptState = PromptState.QUEUED
    step: str = ""  # the newest step, first line
    steps: int = 0  # steps taken so far
    started_at: float | None = None
    finished_at: float | None = None
    checks: dict[str, str] = field(default_factory=dict)  # name -> running/passed/failed …
    outcome: str = ""  # the agent's summary or why it failed
    result: RunResult | None = None

    @property
    def final(self) -> bool:
        return self.state in ENDINGS.values()

    @property
    def took(self) -> float:
        end = self.finished_at or self.started_at or 0.0
        return max(0.0, end - (self.started_at or end))

    def apply(self, event: ProgressEvent) -> None:
        kind = event.kind
        if kind is EventKind.STARTED:  # also a comparison run again after a restart
            self.state, self.started_at, self.finished_at = PromptState.RUNNING, event.at, None
            self.step, self.steps, self.checks, self.outcome, self.result = "", 0, {}, "", None
        elif self.final:
            return
        elif kind in ENDINGS:
            self.state, self.outcome, self.finished_at = ENDINGS[kind], event.text, event.at
            if kind is EventKind.RESULT:
                self.result = RunResult.from_dict(event.data)
        elif kind in (EventKind.STEP, EventKind.INFO, EventKind.WARNING):
            check = event.data.get("check")
            if isinstance(check, str) and check:
                self.checks[check] = str(event.data.get("status") or "running")
            first = event.text.strip().splitlines()[0] if event.text.strip() else ""
            if first:
                self.step, self.steps = first[:STEP_CHARS], self.steps + 1

    def to_dict(self) -> dict[str, object]:
        return {
            "number": self.number,
            "label": self.label,
            "state": self.state.value,
            "step": self.step,
            "steps": self.steps,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "checks": dict(self.checks),
            "outcome": self.outcome,
            "result": self.result.to_dict() if self.result is not None else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CandidateView:
        return cls(
            number=int(data["number"]),
            label=str(data.get("label", "")),
            state=PromptState(data.get("state", "queued")),
            step=str(data.get("step") or ""),
            steps=int(data.get("steps") or 0),
            started_at=data.get("started_at"),
            finished_at=data.get("finished_at"),
            checks={str(k): str(v) for k, v in (data.get("checks") or {}).items()},
            outcome=str(data.get("outcome") or ""),
            result=RunResult.from_dict(data["result"]) if data.get("result") else None,
        )
