"""The review's body: what was found by severity, what was checked, and what it cost.

Findings that could not sit on a line of the diff are listed here in full, so nothing the
reviewer found is lost; files the model saw only in outline (a diff too long to send
whole) are named, so a reader knows the review did not silently skip them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bot.agents.findings import SEVERITIES, Finding
from bot.review.diff import FileDiff
from bot.review.placing import ICONS, Placed, comment_body, where


@dataclass(frozen=True)
class Checked:
    files: dict[str, FileDiff]
    head_sha: str
    rules: tuple[str, ...]
    focus: str | None
    outlined: tuple[str, ...] = ()  # files sent as an outline only (the diff was too long)


@dataclass(frozen=True)
class Spent:
    tokens: int
    cost_usd: float | None
    seconds: float
    model: str


def counts(findings: list[Finding]) -> str:
    by = Counter(f.severity.value for f in findings)
    said = [f"{by[s.value]} {s.value}" for s in SEVERITIES if by[s.value]]
    return ", ".join(said) if said else "no findings"


def summary(
    placed: Placed,
    checked: Checked,
    spent: Spent,
    note: str = "",
    since: tuple[str, ...] = (),
    changes_requested: bool = False,
) -> str:
    """`since`: lines on the earlier review (what was fixed, what is still open);
    `changes_requested`: a blocker was found and `.repobox.yml` asks for changes then
    (GitHub shows it as the review's state too; GitLab has only these words)."""
    every = placed.inline + placed.outside
    files = checked.files
    added = sum(f.additions for f in files.values())
    removed = sum(f.deletions for f in files.values())
    said = counts(every)
    if since:
        said = f"{said} new" if every else "no new findings"
    lines = [f"**Repobox review**: {said}."]
    if changes_requested:
        lines += ["", "🛑 **Changes requested**: a blocker must be fixed before this merges."]
    if note.strip():
        lines += ["", note.strip()]
    if placed.outside:
        lines += ["", "**Not on a changed line** (so not inline):"]
        lines += [f"- {where(f)} {comment_body(f, 'github')}" for f in placed.outside]
    if since:
        lines += ["", *since]
    lines += [
        "",
        f"Checked {len(files)} file{'s' if len(files) != 1 else ''} (+{added} −{removed}) "
        f"at `{checked.head_sha[:10]}`"
        + (f", focus: {checked.focus}" if checked.focus else "")
        + (f"; rules: {', '.join(checked.rules)}" if checked.rules else "; no review rules found")
        + ".",
    ]
    if checked.outlined:
        lines.append(
            f"The diff was too long to send whole: {len(checked.outlined)} file(s) went as an "
            "outline and were read on demand: " + ", ".join(f"`{p}`" for p in checked.outlined)
        )
    cost = f", ${spent.cost_usd:.2f}" if spent.cost_usd is not None else ""
    lines.append(f"{spent.model}: {spent.tokens:,} tokens{cost}, {spent.seconds:.1f} s.")
    legend = " ".join(f"{ICONS[s.value]} {s.value}" for s in SEVERITIES)
    lines += ["", f"<sub>{legend}</sub>"]
    return "\n".join(lines)


def since_lines(fixed: list[Finding], resolved: int, still_open: list[Finding]) -> tuple[str, ...]:
    """What happened to the last review's findings: fixed (threads resolved) and still open."""
    lines: list[str] = []
    if fixed:
        lines.append(
            f"**Fixed since the last review** ({resolved} thread{'s' if resolved != 1 else ''} "
            "resolved):"
        )
        lines += [f"- ~~{where(f)} {f.message}~~" for f in fixed]
    if still_open:
        listed = ", ".join(where(f) for f in still_open[:10])
        more = f" and {len(still_open) - 10} more" if len(still_open) > 10 else ""
        lines.append(
            f"Still open from the last review, not repeated: {len(still_open)} ({listed}{more})."
        )
    return tuple(lines)
