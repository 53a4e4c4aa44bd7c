"""One prompt's progress comment on GitLab or GitHub: its state, and how it reads.

The card is rebuilt from progress events and kept in Redis (a relay in another job may
carry on where this one stopped). It renders as a checklist of steps with elapsed time,
ending in the summary or the error; `mention` is the short new comment that notifies the
person who asked when the run ends (edits notify nobody).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from bot.progress.cursor import seen
from bot.progress.events import EventKind, ProgressEvent

MAX_STEPS = 25
FINISHED = frozenset({"done", "failed", "cancelled", "shipped"})
HEADLINES = {
    "queued": "⏳ **Waiting**",
    "running": "⚙️ **Working on it**",
    "done": "✅ **Done**",
    "failed": "❌ **Failed**",
    "cancelled": "⏹️ **Cancelled**",
    "shipped": "🚢 **Shipped**",
}


@dataclass
class Card:
    prompt_id: str
    target: dict[str, Any]  # a ReplyTarget
    action: str  # "run" or "ship"
    asker: str  # username to mention
    asker_name: str
    text: str
    link: str
    comment_id: int | None = None
    status: str = "queued"
    position: int | None = None
    started_at: float | None = None
    finished_at: float | None = None
    steps: list[list[Any]] = field(default_factory=list)  # [text, seconds since start]
    hidden_steps: int = 0
    last_output: str = ""
    outcome: str = ""
    result: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what came after the end (push updates)
    notified: bool = False
    edited_at: float = 0.0  # epoch seconds of the last write, for pacing across processes
    rendered: str = ""  # the body last written, so an unchanged card is not edited again
    seen: str = ""  # the id of the last event applied: a replayed event is skipped

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Card:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    # -- events -------------------------------------------------------------------------
    def take(self, event: ProgressEvent) -> bool:
        """Apply an event once; False for one already seen (another relay delivered it)."""
        if seen(event.id, self.seen):
            return False
        self.apply(event)
        self.seen = event.id or self.seen
        return True

    def apply(self, event: ProgressEvent) -> None:
        kind = event.kind
        if kind is EventKind.QUEUED:
            self.position = int(event.data.get("position") or 0) or None
        elif kind is EventKind.STARTED:
            self.status, self.started_at = "running", event.at
        elif kind is EventKind.STEP or (kind is EventKind.INFO and not self.finished):
            self._step(event)
        elif kind is EventKind.OUTPUT and event.text.strip():
            self.last_output = event.text.strip()[:160]
        elif self.finished and kind in (EventKind.INFO, EventKind.ERROR):
            self.notes.append(("⚠️ " if kind is EventKind.ERROR else "") + event.text)
        elif kind in (EventKind.RESULT, EventKind.SHIPPED):
            self._finish("shipped" if kind is EventKind.SHIPPED else "done", event)
        elif kind is EventKind.ERROR:
            self._finish("failed", event)
        elif kind is EventKind.CANCELLED:
            self._finish("cancelled", event)

    def _step(self, event: ProgressEvent) -> None:
        self.steps.append([event.text.strip()[:200], round(event.at - self._start(event.at), 1)])
        if len(self.steps) > MAX_STEPS:
            self.hidden_steps += len(self.steps) - MAX_STEPS
            self.steps = self.steps[-MAX_STEPS:]
        self.last_output = ""

    def _finish(self, status: str, event: ProgressEvent) -> None:
        self.status, self.outcome, self.result = status, event.text, dict(event.data)
        self.finished_at = event.at
        self._start(event.at)

    def _start(self, at: float) -> float:
        if self.started_at is None:
            self.started_at = at
        return self.started_at

    # -- rendering ------------------------------------------------------------------------
    def render(self) -> str:
        lines = [self._headline(), ""]
        if self.action == "run" and self.text:
            lines += [f"> {line}" for line in self.text.splitlines()[:6]] + [""]
        if self.hidden_steps:
            lines.append(f"- [x] … {self.hidden_steps} earlier steps")
        for index, (text, seconds) in enumerate(self.steps):
            done = self.finished or index < len(self.steps) - 1
            lines.append(f"- [{'x' if done else ' '}] {text} · {_duration(seconds)}")
        if self.last_output and not self.finished:
            output = self.last_output.replace("`", "'")
            lines.append(f"- [ ] `{output}`")
        if self.finished:
            lines += ["", *self._ending()]
        lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines).rstrip() + "\n"

    def _headline(self) -> str:
        headline = HEADLINES.get(self.status, self.status)
        if self.status == "queued":
            ahead = (self.position or 1) - 1
            where = f" — {ahead} ahead of it in the queue" if ahead > 0 else ""
            return f"{headline}{where} · for {self.asker_name} · [live log]({self.link})"
        if self.finished:
            took = _duration((self.finished_at or 0) - (self.started_at or self.finished_at or 0))
            return f"{headline} in {took} · for {self.asker_name} · [full log]({self.link})"
        verb = "Shipping" if self.action == "ship" else "Working on it"
        return f"⚙️ **{verb}** for {self.asker_name} · [live log]({self.link})"

    def _ending(self) -> list[str]:
        if self.status == "failed":
            return [f"**Error:** {self.outcome}"]
        if self.status != "done":
            return [self.outcome] if self.outcome else []
        lines = ["**Summary:**", "", *[f"> {line}" for line in self.outcome.splitlines()[:20]]]
        figures = [str(self.result.get("diffstat") or "no changes")]
        tokens = int(self.result.get("input_tokens") or 0) + int(
            self.result.get("output_tokens") or 0
        )
        if tokens:
            figures.append(f"{tokens:,} tokens")
        if self.result.get("cost_usd"):
            figures.append(f"${float(self.result['cost_usd']):.2f}")
        figures.append(_duration(float(self.result.get("duration_s") or 0)))
        lines += ["", " · ".join(figures)]
        for change in (self.result.get("files") or [])[:20]:
            lines.append(f"- `{change['path']}` (+{change['added']} −{change['removed']})")
        return lines

    def mention(self) -> str:
        """The short new comment at the end: it notifies the person who asked."""
        who = f"@{self.asker}"
        if self.status == "shipped":
            return f"{who} {self.outcome}"
        if self.status == "failed":
            first = self.outcome.strip().splitlines()[0] if self.outcome.strip() else "it failed"
            return f"{who} that run failed: {first}"
        if self.status == "cancelled":
            return f"{who} the run was cancelled."
        took = _duration(float(self.result.get("duration_s") or 0))
        return f"{who} done in {took}: {self.result.get('diffstat') or 'no changes'}."


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m {rest:02d}s"
