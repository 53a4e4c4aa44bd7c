"""How a comparison reads in its GitLab or GitHub comment: the candidates as a table.

While it runs the table has a row per candidate (state, current step, files, checks,
tokens, cost, time); at the end it is the merge request's own table
(`bot.surfaces.forge.description.comparison_table`), with the verdicts, and the way to pick one.
"""

from __future__ import annotations

from bot.progress.candidates import CandidateView
from bot.progress.view import PromptView
from bot.sessions.prompts import PromptState
from bot.surfaces.compare_words import STATES, check_marks, first_line
from bot.surfaces.forge.description import comparison_table

STEP_CHARS = 80


def headline(view: PromptView, link: str) -> str:
    who = view.author_name
    count = len(view.candidates) or len(view.comparison.candidates if view.comparison else [])
    what = f"{count} candidates" if count else "the candidates"
    if view.state is PromptState.RUNNING:
        return f"⚖️ **Comparing {what}** for {who} · [live log]({link})"
    took = f"{view.took:.0f}s"
    if view.state is PromptState.DONE:
        return f"⚖️ **Compared {what}** in {took} · for {who} · [full log]({link})"
    if view.state is PromptState.CANCELLED:
        return f"⏹️ **Comparison cancelled** · for {who} · [full log]({link})"
    return f"❌ **Comparison failed** after {took} · for {who} · [full log]({link})"


def body(view: PromptView, bot: str, now: float) -> list[str]:
    """The lines under the headline and the quoted prompt."""
    comparison = view.comparison
    if comparison is None:
        lines = live_table(view.candidates, now)
        said = first_line(view.outcome, last=True) if view.final else ""
        return [*lines, "", said] if said else lines
    lines = comparison_table(comparison)
    if view.state is PromptState.DONE and any(c.commit for c in comparison.candidates):
        return [*lines, "", f"Reply `@{bot} pick <n>` to adopt one; the others are then discarded."]
    return [f"**Error:** {first_line(view.outcome, last=True)}", "", *lines]


def live_table(candidates: list[CandidateView], now: float) -> list[str]:
    lines = [
        "| # | Candidate | State | Step | Files | Checks | Tokens | Cost | Time |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for c in candidates:
        result = c.result
        said = first_line(c.outcome) if c.final else c.step
        step = said if len(said) <= STEP_CHARS else said[: STEP_CHARS - 1] + "…"
        took = c.took if c.final else now - (c.started_at or now)
        cells = [
            str(c.number),
            c.label,
            STATES[c.state],
            step or "—",
            (result.diffstat or "no changes") if result else "—",
            ", ".join(check_marks(c.checks)) or "—",
            f"{result.total_tokens:,}" if result else "—",
            f"${result.cost_usd:.2f}" if result and result.cost_usd else "—",
            f"{took:.0f} s",
        ]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return lines


def mention(view: PromptView, who: str, bot: str) -> str:
    """The short new comment that tells the person who asked how it ended."""
    if view.state is PromptState.DONE:
        return f"{who} the comparison is done: reply `@{bot} pick <n>` to adopt a candidate."
    if view.state is PromptState.CANCELLED:
        return f"{who} the comparison was cancelled."
    return f"{who} that comparison failed: {first_line(view.outcome, last=True) or 'no result'}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
