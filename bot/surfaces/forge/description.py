"""The merge request's title and description, from the session's prompts, runs and checks.

Pure: a later step gathers the values (the prompt history, the latest check report, the
session's tokens and cost) and calls this on every ship, so the description stays current.
Reviewers read what was asked and by whom, what the agent says it did, whether the checks
passed on which commit, and, when someone shipped past failing checks, who did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.checks.results import VERDICT, CheckReport, CheckResult
from bot.compare.outcome import Comparison
from bot.git.commit_message import SUBJECT_MAX, subject_line

SUMMARY_LINES = 12


@dataclass(frozen=True)
class AskedPrompt:
    """One prompt of the session that ran: who asked what, and what the agent said."""

    text: str
    author: str  # a display name
    summary: str | None = None
    checkpoint: str | None = None
    files: tuple[str, ...] = ()
    comparison: Comparison | None = None  # when it was chosen by comparison


@dataclass(frozen=True)
class Override:
    """ "ship it anyway": who shipped past which failing required checks."""

    by: str
    failing: tuple[str, ...]


@dataclass(frozen=True)
class Usage:
    tokens: int = 0
    cost_usd: float | None = None


def title(prompts: Sequence[AskedPrompt], fallback: str) -> str:
    """The session's work in one imperative line: each run's subject while they fit."""
    subjects = [subject_line(p.summary, p.text, p.files) for p in prompts]
    subjects = list(dict.fromkeys(s for s in subjects if s))  # the same words once
    if not subjects:
        return fallback if len(fallback) <= SUBJECT_MAX else fallback[: SUBJECT_MAX - 1] + "…"
    chosen = subjects[0]
    for index, subject in enumerate(subjects[1:], start=1):
        more = f"{chosen}; {subject[0].lower()}{subject[1:]}"
        left = len(subjects) - index - 1
        if len(more) + (len(f" and {left} more") if left else 0) > SUBJECT_MAX:
            rest = f" and {len(subjects) - index} more"
            return chosen + rest if len(chosen + rest) <= SUBJECT_MAX else chosen
        chosen = more
    return chosen


def description(
    *,
    opened_for: str,
    prompts: Sequence[AskedPrompt],
    report: CheckReport | None = None,
    usage: Usage | None = None,
    live_url: str | None = None,
    closes: str | None = None,
    override: Override | None = None,
) -> str:
    """Markdown for GitLab and GitHub alike."""
    lines = [f"Opened by Repobox for {opened_for}.", ""]
    if override is not None:
        failing = ", ".join(f"`{name}`" for name in override.failing) or "required checks"
        lines += [
            f"> ⚠️ **Shipped with failing checks**: {override.by} chose "
            f"“ship it anyway” while {failing} did not pass.",
            "",
        ]
    lines += _asked(prompts)
    lines += _done(prompts)
    lines += _compared(prompts)
    if report is not None and (report.results or report.setup is not None):
        lines += _checks(report)
    lines += _footer(usage, live_url, closes)
    return "\n".join(lines).rstrip() + "\n"


def _asked(prompts: Sequence[AskedPrompt]) -> list[str]:
    lines = ["## What was asked", ""]
    for number, prompt in enumerate(prompts, start=1):
        text = " ".join(prompt.text.split())
        text = text if len(text) <= 500 else text[:499] + "…"
        lines.append(f"{number}. **{prompt.author}**: {text}")
    return [*lines, ""] if prompts else []


def _done(prompts: Sequence[AskedPrompt]) -> list[str]:
    said = [(n, p) for n, p in enumerate(prompts, start=1) if p.summary and p.summary.strip()]
    if not said:
        return []
    lines = ["## What was done", ""]
    for number, prompt in said:
        commit = f" (`{prompt.checkpoint[:10]}`)" if prompt.checkpoint else ""
        lines.append(f"{number}.{commit}")
        summary = (prompt.summary or "").strip().splitlines()[:SUMMARY_LINES]
        lines += [f"   > {line}" if line.strip() else "   >" for line in summary]
    return [*lines, ""]


def _compared(prompts: Sequence[AskedPrompt]) -> list[str]:
    """Each prompt whose change was picked from a comparison: who picked which, the table."""
    lines: list[str] = []
    for number, prompt in enumerate(prompts, start=1):
        comparison = prompt.comparison
        chosen = comparison.candidate(comparison.picked or 0) if comparison else None
        if comparison is None or chosen is None:
            continue
        lines += [
            "## Chosen by comparison" if not lines else "",
            "",
            f"Prompt {number} ran on {len(comparison.candidates)} candidates side by side; "
            f"{comparison.picked_by or 'someone'} picked **{chosen.number} ({chosen.label})**.",
            "",
            *comparison_table(comparison),
            "",
        ]
    return lines


def comparison_table(comparison: Comparison) -> list[str]:
    """A comparison's Markdown table (the merge request and the forge comment share it)."""
    lines = [
        "| # | Candidate | Verdict | Files | Tokens | Cost | Time |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for c in comparison.candidates:
        result = c.result
        picked = " ⭐" if comparison.picked == c.number else ""
        files = result.diffstat or "—" if result is not None else "—"
        tokens = f"{result.total_tokens:,}" if result is not None else "—"
        cost = _money(result.cost_usd) if result is not None and result.cost_usd else "—"
        took = f"{result.duration_s:.0f} s" if result is not None else "—"
        lines.append(
            f"| {c.number}{picked} | {_cell(c.label)} | {_cell(c.verdict)} | {_cell(files)} "
            f"| {tokens} | {cost} | {took} |"
        )
    return lines


def _checks(report: CheckReport) -> list[str]:
    commit = f"`{report.commit[:10]}`"
    lines = ["## Checks", "", "| Check | Result | Duration | Commit |", "| --- | --- | --- | --- |"]
    rows: list[CheckResult] = [report.setup] if report.setup and not report.setup.status.ok else []
    for result in [*rows, *report.results]:
        icon, word = VERDICT[result.status]
        kind = "required" if result.required else "optional"
        name = _cell(result.name) if result.setup else f"{_cell(result.name)} ({kind})"
        lines.append(f"| {name} | {icon} {word} | {result.duration:.1f} s | {commit} |")
    source = f" Checks declared in `.repobox.yml` on {report.source}." if report.source else ""
    lines += [
        "",
        f"{'All required checks pass.' if report.passed else 'Required checks fail.'}{source}",
        "",
    ]
    return lines


def _footer(usage: Usage | None, live_url: str | None, closes: str | None) -> list[str]:
    lines: list[str] = []
    if usage is not None and (usage.tokens or usage.cost_usd):
        cost = f" · ${usage.cost_usd:.2f}" if usage.cost_usd is not None else ""
        lines.append(f"Tokens: {usage.tokens:,}{cost}")
    if live_url:
        lines.append(f"Live log: {live_url}")
    if closes:
        lines += ["", f"Closes {closes}"]
    return lines


def _money(usd: float) -> str:
    """Dollars to the cent, or to a hundredth of a cent below one (a cheap model's run)."""
    return f"${usd:.2f}" if usd >= 0.01 else f"${usd:.4f}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
