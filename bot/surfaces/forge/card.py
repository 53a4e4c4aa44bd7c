"""One prompt's progress comment on GitLab or GitHub: where it lives, and how it reads.

The card holds the prompt's `PromptView` (folded from events, kept in Redis so a relay
in another job carries on where this one stopped) and the comment showing it. It renders
as a checklist of steps with elapsed time, ending in the summary or the error (a
comparison as a table of its candidates instead: `comparison`); `mention` is the short new
comment that notifies the person who asked when the run ends (edits notify nobody).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from bot.forges.forge import ReplyTarget
from bot.progress.view import PromptView
from bot.sessions.events import ProgressEvent
from bot.sessions.prompts import Action, PromptState
from bot.sessions.results import RunResult
from bot.surfaces.forge import comparison

HEADLINES = {
    PromptState.QUEUED: "⏳ **Waiting**",
    PromptState.RUNNING: "⚙️ **Working on it**",
    PromptState.DONE: "✅ **Done**",
    PromptState.FAILED: "❌ **Failed**",
    PromptState.CANCELLED: "⏹️ **Cancelled**",
}
SHIPPED = "🚢 **Shipped**"


@dataclass
class Card:
    target: ReplyTarget  # where the comment and the closing mention go
    asker: str  # username to mention
    link: str
    view: PromptView = field(default_factory=lambda: PromptView(""))
    comment_id: int | None = None
    notified: bool = False
    edited_at: float = 0.0  # epoch seconds of the last write, for pacing across processes
    rendered: str = ""  # the body last written, so an unchanged card is not edited again

    @property
    def prompt_id(self) -> str:
        return self.view.prompt_id

    @property
    def finished(self) -> bool:
        return self.view.final

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target.to_dict(),
            "asker": self.asker,
            "link": self.link,
            "view": self.view.to_dict(),
            "comment_id": self.comment_id,
            "notified": self.notified,
            "edited_at": self.edited_at,
            "rendered": self.rendered,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Card:
        target = ReplyTarget.from_dict(data["target"])
        card = cls(target, str(data["asker"]), str(data["link"]))
        card.view = PromptView.from_dict(data["view"])
        card.comment_id = data.get("comment_id")
        card.notified = bool(data.get("notified"))
        card.edited_at = float(data.get("edited_at") or 0.0)
        card.rendered = str(data.get("rendered") or "")
        return card

    def take(self, event: ProgressEvent) -> bool:
        """Apply an event once; False for one already seen (another relay delivered it)."""
        return self.view.take(event)

    # -- rendering ------------------------------------------------------------------------
    def render(self, bot: str = "repobox", now: float | None = None) -> str:
        """The comment's Markdown; `bot` is the mention name people reply to, `now` the
        time a running comparison's rows count from."""
        view = self.view
        lines = [self._headline(), ""]
        if view.action in (Action.RUN, Action.COMPARE) and view.text:
            lines += [f"> {line}" for line in view.text.splitlines()[:6]] + [""]
        if view.action is Action.COMPARE and view.state is not PromptState.QUEUED:
            lines += comparison.body(view, bot, time.time() if now is None else now)
            lines += [f"- {note}" for note in view.notes]
            return "\n".join(lines).rstrip() + "\n"
        if view.hidden_steps:
            lines.append(f"- [x] … {view.hidden_steps} earlier steps")
        for index, step in enumerate(view.steps):
            done = self.finished or index < len(view.steps) - 1
            lines.append(f"- [{'x' if done else ' '}] {step.text} · {_duration(step.after)}")
        if view.last_output and not self.finished:
            output = view.last_output.replace("`", "'")
            lines.append(f"- [ ] `{output}`")
        if self.finished:
            lines += ["", *self._ending()]
        lines += [f"- {note}" for note in view.notes]
        return "\n".join(lines).rstrip() + "\n"

    def _headline(self) -> str:
        view, who = self.view, self.view.author_name
        if view.action is Action.COMPARE and view.state is not PromptState.QUEUED:
            return comparison.headline(view, self.link)
        headline = SHIPPED if view.shipped else HEADLINES[view.state]
        if view.state is PromptState.QUEUED:
            where = f" — {view.ahead} ahead of it in the queue" if view.ahead > 0 else ""
            return f"{headline}{where} · for {who} · [live log]({self.link})"
        if self.finished:
            return f"{headline} in {_duration(view.took)} · for {who} · [full log]({self.link})"
        verb = "Shipping" if view.action is Action.SHIP else "Working on it"
        return f"⚙️ **{verb}** for {who} · [live log]({self.link})"

    def _ending(self) -> list[str]:
        view = self.view
        if view.state is PromptState.FAILED:
            return [f"**Error:** {view.outcome}"]
        if view.state is not PromptState.DONE or view.shipped:
            return [view.outcome] if view.outcome else []
        result = view.result or RunResult()
        lines = ["**Summary:**", "", *[f"> {line}" for line in view.outcome.splitlines()[:20]]]
        figures = [result.diffstat or "no changes"]
        if result.total_tokens:
            figures.append(f"{result.total_tokens:,} tokens")
        if result.cost_usd:
            figures.append(f"${result.cost_usd:.2f}")
        figures.append(_duration(result.duration_s))
        lines += ["", " · ".join(figures)]
        lines += [f"- ⚠️ {warning}" for warning in view.warnings]
        for change in result.files[:20]:
            lines.append(f"- `{change.path}` (+{change.added} −{change.removed})")
        return lines

    def mention(self, bot: str = "repobox") -> str:
        """The short new comment at the end: it notifies the person who asked."""
        view, who = self.view, f"@{self.asker}"
        if view.action is Action.COMPARE:
            return comparison.mention(view, who, bot)
        if view.shipped:
            return f"{who} {view.outcome}"
        if view.state is PromptState.FAILED:
            first = view.outcome.strip().splitlines()[0] if view.outcome.strip() else "it failed"
            return f"{who} that run failed: {first}"
        if view.state is PromptState.CANCELLED:
            return f"{who} the run was cancelled."
        result = view.result or RunResult()
        took = _duration(result.duration_s)
        commit = f" (commit {result.commit[:10]})" if result.commit else ""
        return f"{who} done in {took}: {result.diffstat or 'no changes'}{commit}."


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m {rest:02d}s"
