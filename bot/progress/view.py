"""One prompt as people see it, folded from its progress events: the single source of a
prompt's state for every renderer (Slack's reply, the forge comment, the CLI, the page).

A surface keeps where it showed the view (a message ts, a comment id) next to it, never
a state of its own: adding a progress kind means teaching `take` here and each renderer
how it looks, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.compare.outcome import Comparison
from bot.progress.candidates import CandidateView
from bot.progress.cursor import seen
from bot.sessions.events import EventKind, ProgressEvent
from bot.sessions.prompts import ENDINGS, Action, Prompt, PromptState
from bot.sessions.results import RunResult

STEPS_KEPT = 25  # the checklist of a forge comment
RECENT_KEPT = 8  # the newest lines of a Slack reply
STEP_CHARS = 300


@dataclass
class Step:
    """An agent step (a tool call, an edit, a command) and when it began after the start."""

    text: str
    after: float  # seconds since the run started


@dataclass
class PromptView:
    prompt_id: str
    action: Action = Action.RUN
    author: str = ""  # the id a surface mentions
    author_name: str = ""
    text: str = ""  # what was asked, trimmed
    state: PromptState = PromptState.QUEUED
    position: int | None = None  # 1 = next in the queue
    started_at: float | None = None
    finished_at: float | None = None
    steps: list[Step] = field(default_factory=list)  # STEP and INFO events, newest last
    hidden_steps: int = 0  # older steps no longer kept
    recent: list[str] = field(default_factory=list)  # first lines of any event, newest last
    lines: int = 0  # output lines seen
    last_output: str = ""  # the newest output line since the last step
    outcome: str = ""  # the summary, the error or the shipped text
    result: RunResult | None = None
    url: str | None = None  # a ship's merge request
    shipped: bool = False
    notes: list[str] = field(default_factory=list)  # said after the end (an MR update)
    warnings: list[str] = field(default_factory=list)  # first lines of WARNING events
    cursor: str = ""  # the id of the last event taken
    candidates: list[CandidateView] = field(default_factory=list)  # a comparison's, by number
    comparison: Comparison | None = None  # a finished comparison, with its verdicts

    @classmethod
    def of(cls, prompt: Prompt) -> PromptView:
        return cls(prompt.id, prompt.action, prompt.author.id, prompt.author.name, prompt.text)

    @property
    def final(self) -> bool:
        return self.state in (PromptState.DONE, PromptState.FAILED, PromptState.CANCELLED)

    @property
    def ahead(self) -> int:
        return max(0, (self.position or 1) - 1)

    @property
    def took(self) -> float:
        """Seconds from start to end (or to the last event, while it runs)."""
        end = self.finished_at or self.started_at or 0.0
        return max(0.0, end - (self.started_at or end))

    def take(self, event: ProgressEvent) -> bool:
        """Apply an event once; False for one already taken (another relay delivered it)."""
        if seen(event.id, self.cursor):
            return False
        self.apply(event)
        self.cursor = event.id or self.cursor
        return True

    def apply(self, event: ProgressEvent) -> None:
        kind = event.kind
        if kind is EventKind.STATE:
            return  # the session's moves show on its card, not in the prompt's reply
        if self.final:
            if kind in (EventKind.INFO, EventKind.ERROR):
                self.notes.append(("⚠️ " if kind is EventKind.ERROR else "") + event.text)
            return
        number = event.candidate
        if number is not None:
            self.candidate(number, str(event.data.get("label") or "")).apply(event)
            return
        if kind is EventKind.QUEUED:
            self.position = int(event.data.get("position") or 0) or None
        elif kind is EventKind.STARTED:
            self.state, self.started_at = PromptState.RUNNING, event.at
            for index, label in enumerate(event.data.get("candidates") or [], start=1):
                self.candidate(index, str(label))
        elif kind in ENDINGS:
            self._finish(event)
        else:
            self._line(event)

    def candidate(self, number: int, label: str = "") -> CandidateView:
        """Candidate `number`'s view, made on its first event."""
        for view in self.candidates:
            if view.number == number:
                return view
        view = CandidateView(number, label or f"candidate {number}")
        self.candidates = sorted([*self.candidates, view], key=lambda c: c.number)
        return view

    def _line(self, event: ProgressEvent) -> None:
        first = event.text.strip().splitlines()[0] if event.text.strip() else ""
        if not first:
            return
        if event.kind is EventKind.OUTPUT:
            self.lines += 1
            self.last_output = event.text.strip()[:160]
        self.recent = [*self.recent, first[:STEP_CHARS]][-RECENT_KEPT:]
        if event.kind is EventKind.WARNING:
            self.warnings = [*self.warnings, first[:STEP_CHARS]][-RECENT_KEPT:]
        if event.kind in (EventKind.STEP, EventKind.INFO):
            start = self.started_at if self.started_at is not None else event.at
            self.steps.append(Step(event.text.strip()[:200], round(event.at - start, 1)))
            if len(self.steps) > STEPS_KEPT:
                self.hidden_steps += len(self.steps) - STEPS_KEPT
                self.steps = self.steps[-STEPS_KEPT:]
            self.last_output = ""

    def _finish(self, event: ProgressEvent) -> None:
        self.state, self.outcome = ENDINGS[event.kind], event.text
        self.finished_at = event.at
        if event.kind is EventKind.RESULT:
            self.result = RunResult.from_dict(event.data)
            self.comparison = Comparison.of(self.result)
        self.shipped = event.kind is EventKind.SHIPPED
        self.url = event.data.get("url") or None

    def to_dict(self) -> dict[str, object]:
        return {
            **{name: getattr(self, name) for name in _PLAIN},
            "action": self.action.value,
            "state": self.state.value,
            "steps": [[s.text, s.after] for s in self.steps],
            "result": self.result.to_dict() if self.result is not None else None,
            "candidates": [c.to_dict() for c in self.candidates],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PromptView:
        view = cls(**{name: data[name] for name in _PLAIN if name in data})
        view.action = Action(data.get("action", "run"))
        view.state = PromptState(data.get("state", "queued"))
        view.steps = [Step(str(text), float(after)) for text, after in data.get("steps") or []]
        view.result = RunResult.from_dict(data["result"]) if data.get("result") else None
        view.comparison = Comparison.of(view.result)
        view.candidates = [CandidateView.from_dict(c) for c in data.get("candidates") or []]
        return view


_PLAIN = (
    "prompt_id",
    "author",
    "author_name",
    "text",
    "position",
    "started_at",
    "finished_at",
    "hidden_steps",
    "recent",
    "lines",
    "last_output",
    "outcome",
    "url",
    "shipped",
    "notes",
    "warnings",
    "cursor",
)
