"""How a comparison reads in Slack: one message, edited in place, one line per candidate.

While it runs each candidate's line says its state, current step, files, checks, tokens,
cost and time; at the end each line carries the verdict, and every candidate with a commit
gets a "Pick n" button (the same `pick <n>` a person can type). A comparison is never a
native stream: a stream appends text and task cards one after the other, while this view
rewrites several columns at once, which only an edited message can show.
"""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.compare.outcome import CandidateOutcome, Comparison
from bot.progress.candidates import CandidateView
from bot.progress.view import PromptView
from bot.sessions.prompts import PromptState
from bot.sessions.results import RunResult
from bot.surfaces.compare_words import STATES, check_marks, first_line
from bot.surfaces.slack.kit import (
    MAX_FALLBACK,
    MAX_SECTION,
    Rendered,
    actions,
    button,
    context,
    duration,
    escape,
    section,
    trim,
    within_limits,
)

ACTION_PICK = "repobox_pick_"  # + the candidate's number; the value is the comparison's id
BUTTONS_PER_BLOCK = ActionsBlock.elements_max_length  # 25
BUTTON_TEXT = ButtonElement.text_max_length  # 75 characters
LINE = MAX_SECTION // 2


def progress(view: PromptView, log_url: str, now: float) -> Rendered:
    """The comparison's reply: headline, what was asked, then the candidates."""
    headline = _headline(view, now)
    asked = escape(trim(" ".join(view.text.split()), 200))
    blocks: list[Block] = [section(headline), context(f"> {asked} · <@{view.author}>")]
    comparison = view.comparison
    if comparison is not None:
        blocks += [section(_verdict_line(c), log_url) for c in comparison.candidates]
        blocks += _pick_buttons(view.prompt_id, comparison)
    else:
        blocks += [section(_live_line(c, now), log_url) for c in view.candidates]
    if view.final:
        blocks += _ending(view, comparison, log_url)
    return trim(headline.replace("*", ""), MAX_FALLBACK), within_limits(blocks, log_url)


def _headline(view: PromptView, now: float) -> str:
    took = duration((view.finished_at or now) - (view.started_at or view.finished_at or now))
    count = len(view.candidates) or len(view.comparison.candidates if view.comparison else [])
    what = f"{count} candidates" if count else "the candidates"
    if view.state is PromptState.QUEUED:
        ahead = "1 item" if view.ahead == 1 else f"{view.ahead} items"
        return f"⏳ *Waiting*: This comparison runs after {ahead} ahead of it in the queue."
    if view.state is PromptState.RUNNING:
        return f"⚖️ *Comparing {what}…* · {took}"
    if view.state is PromptState.DONE:
        return f"⚖️ *Compared {what}* in {took}"
    if view.state is PromptState.CANCELLED:
        return "⏹️ *Comparison cancelled*" + ("" if view.started_at else " before it ran")
    return f"❌ *Comparison failed* after {took}" if view.started_at else "❌ *Comparison failed*"


def _live_line(candidate: CandidateView, now: float) -> str:
    """A running (or stopped) candidate: state and step, then its figures so far."""
    head = f"*{candidate.number}. {escape(candidate.label)}* · {STATES[candidate.state]}"
    said = first_line(candidate.outcome) if candidate.final else candidate.step
    if said:
        head += f" · {escape(trim(said, 200))}"
    took = candidate.took if candidate.final else now - (candidate.started_at or now)
    checks = ", ".join(escape(mark) for mark in check_marks(candidate.checks)) or "—"
    figures = _figures(candidate.result, took, checks)
    return trim(f"{head}\n{figures}", LINE)


def _verdict_line(candidate: CandidateOutcome) -> str:
    """A finished candidate: its verdict, its figures and what it said it did."""
    head = f"*{candidate.number}. {escape(candidate.label)}* — {escape(candidate.verdict)}"
    result = candidate.result
    lines = [head, _figures(result, result.duration_s if result else 0.0, None)]
    said = first_line(candidate.summary)
    if said:
        lines.append(f"> {escape(trim(said, 200))}")
    return trim("\n".join(lines), LINE)


def _figures(result: RunResult | None, took: float, checks: str | None) -> str:
    """files ± · checks · tokens · cost · time ("—" for what is not known yet)."""
    parts = [f"files {escape(result.diffstat or 'unchanged')}" if result else "files —"]
    if checks is not None:
        parts.append(f"checks {checks}")
    parts.append(f"{result.total_tokens:,} tokens" if result else "tokens —")
    parts.append(f"${result.cost_usd:.4f}" if result and result.cost_usd else "cost —")
    parts.append(duration(took))
    return " · ".join(parts)


def _pick_buttons(prompt_id: str, comparison: Comparison) -> list[ActionsBlock]:
    """One "Pick n" button per candidate with a commit (none once one was picked)."""
    if comparison.picked is not None:
        return []
    buttons = [
        button(
            trim(f"Pick {c.number} ({c.label})", BUTTON_TEXT),
            f"{ACTION_PICK}{c.number}",
            prompt_id,
        )
        for c in comparison.candidates
        if c.commit
    ]
    rows = [buttons[i : i + BUTTONS_PER_BLOCK] for i in range(0, len(buttons), BUTTONS_PER_BLOCK)]
    return [actions(row, block_id=f"compare-{n}") for n, row in enumerate(rows)]


def _ending(view: PromptView, comparison: Comparison | None, log_url: str) -> list[Block]:
    pickable = comparison is not None and any(c.commit for c in comparison.candidates)
    if view.state is PromptState.DONE and pickable:
        tail = (
            "Press *Pick n* or reply `pick &lt;n&gt;` to adopt one; the others are then discarded."
        )
        return [context(f"{tail} · <{log_url}|Full log>")]
    said = first_line(view.outcome, last=True)  # why nothing can be picked, or the stop
    blocks: list[Block] = [section(escape(said), log_url)] if said else []
    return [*blocks, context(f"<{log_url}|Full log>")]
