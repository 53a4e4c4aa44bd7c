"""Where each finding goes: an inline comment on a line of the diff, or the summary.

Never dropped, never sent to fail: a finding whose lines are not all in one hunk of the
diff (a file the change did not touch, a line far from any change) is listed in the
review's summary with its place, so the forge never refuses the whole review for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.agents.findings import Finding
from bot.forges.provider import ReviewTarget, finding_mark
from bot.review.diff import FileDiff

Flavour = Literal["github", "gitlab"]
ICONS = {"blocker": "🛑", "major": "🔴", "minor": "🟡", "nit": "⚪"}


@dataclass
class Placed:
    inline: list[Finding] = field(default_factory=list)
    outside: list[Finding] = field(default_factory=list)


def place(findings: list[Finding], files: dict[str, FileDiff]) -> Placed:
    placed = Placed()
    for finding in findings:
        diff = files.get(finding.path)
        inside = diff is not None and diff.hunk_of(finding.first, finding.line) is not None
        (placed.inline if inside else placed.outside).append(finding)
    return placed


def fence(text: str) -> str:
    """A code fence longer than any run of backticks in `text`, so it cannot be closed early."""
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


def comment_body(finding: Finding, flavour: Flavour) -> str:
    """The finding as a comment: severity, message, and the replacement as a suggestion the
    forge applies with one click (GitHub: the commented lines; GitLab: `-N+0` around
    the note's line)."""
    head = f"{ICONS[finding.severity.value]} **{finding.severity.value}**: {finding.message}"
    if finding.replacement is None:
        return head
    new = finding.replacement.rstrip("\n")
    tick = fence(new)
    if flavour == "github":
        opener = f"{tick}suggestion"
    else:
        opener = f"{tick}suggestion:-{finding.line - finding.first}+0"
    return f"{head}\n\n{opener}\n{new}\n{tick}"


def github_comment(finding: Finding, key: str) -> dict[str, object]:
    """One entry of `comments[]` in `POST …/pulls/{n}/reviews`, on the new side."""
    comment: dict[str, object] = {
        "path": finding.path,
        "line": finding.line,
        "side": "RIGHT",
        "body": f"{comment_body(finding, 'github')}\n\n{finding_mark(key)}",
    }
    if finding.start_line is not None and finding.start_line < finding.line:
        comment |= {"start_line": finding.start_line, "start_side": "RIGHT"}
    return comment


def gitlab_comment(
    finding: Finding, key: str, diff: FileDiff, target: ReviewTarget
) -> dict[str, object]:
    """A draft note on the finding's last line: `new_line` alone for an added line, and
    `old_line` too for an unchanged one, as GitLab's positions require; the suggestion's
    `-N+0` reaches back to the finding's first line."""
    position: dict[str, object] = {
        "position_type": "text",
        "base_sha": target.base_sha,
        "start_sha": target.start_sha or target.base_sha,
        "head_sha": target.head_sha,
        "old_path": diff.old_path or diff.path,
        "new_path": diff.path,
        "new_line": finding.line,
    }
    hunk = diff.hunk_of(finding.line, finding.line)
    if hunk is not None and finding.line in hunk.old_of_new:
        position["old_line"] = hunk.old_of_new[finding.line]
    body = f"{comment_body(finding, 'gitlab')}\n\n{finding_mark(key)}"
    return {"note": body, "position": position}


def where(finding: Finding) -> str:
    lines = f"{finding.first}–{finding.line}" if finding.first != finding.line else finding.line
    return f"`{finding.path}:{lines}`"
