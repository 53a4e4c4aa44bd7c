"""One event as one line of a log: the CLI's `watch` prints it, the live page shows it.

Both read this instead of each keeping its own table of tags and figures, so a new
progress kind or a new figure shows the same way in the terminal and in the browser.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.sessions.events import EventKind, ProgressEvent
from bot.sessions.prompts import ENDINGS, PromptState
from bot.sessions.results import RunResult

TAGS = {
    EventKind.STARTED: "start",
    EventKind.OUTPUT: "out",
    EventKind.TEXT: "note",
    EventKind.RESULT: "done",
    EventKind.CANCELLED: "cancel",
    EventKind.WARNING: "warn",
}


@dataclass(frozen=True)
class EventLine:
    tag: str  # the short label of the line
    text: str
    chips: tuple[str, ...] = ()  # figures shown beside it (diffstat, tokens, cost, time)
    state: PromptState | None = None  # the prompt's state after this event, if it moved
    stderr: bool = False
    candidate: str = ""  # "2 opus": the comparison candidate the line belongs to

    def to_dict(self) -> dict[str, object]:
        return {
            "tag": self.tag,
            "text": self.text,
            "chips": list(self.chips),
            "state": self.state.value if self.state else None,
            "stderr": self.stderr,
            "candidate": self.candidate,
        }


def line_of(event: ProgressEvent) -> EventLine:
    stderr = event.kind is EventKind.OUTPUT and event.data.get("stream") == "stderr"
    tag = "err" if stderr else TAGS.get(event.kind, event.kind.value)
    if event.kind is EventKind.STEP and event.data.get("check"):
        tag = "check"  # a `.repobox.yml` check (jobs/steps/checks.py); its output is in data
    state = PromptState.RUNNING if event.kind is EventKind.STARTED else ENDINGS.get(event.kind)
    if event.candidate is not None:  # a candidate's start or end moves only the candidate
        label = f"{event.candidate} {event.data.get('label') or ''}".strip()
        return EventLine(tag, event.text, _chips(event), None, stderr, label)
    return EventLine(tag, event.text, _chips(event), state, stderr)


def figures(result: RunResult) -> tuple[str, ...]:
    """A run's last line, as the Slack and forge replies show it: changes, tokens, cost."""
    chips = [result.diffstat or "no changes"]
    if result.total_tokens:
        chips.append(f"{result.total_tokens:,} tokens")
    if result.cost_usd:
        chips.append(f"${result.cost_usd:.4f}")
    chips.append(f"took {result.duration_s:.1f} s")
    return tuple(chips)


def _chips(event: ProgressEvent) -> tuple[str, ...]:
    if event.kind in (EventKind.RESULT, EventKind.ERROR) and "comparison" in event.data:
        result = RunResult.from_dict(event.data)
        count = len(event.data["comparison"].get("candidates") or [])
        return (f"{count} candidates", *figures(result)[1:])
    if event.kind is EventKind.RESULT:
        return figures(RunResult.from_dict(event.data))
    if event.kind is EventKind.QUEUED and event.data.get("position"):
        return (f"position {event.data['position']}",)
    return ()
