"""`fix this` / `fix all`: a review's findings turned into one prompt for the session.

The findings come from Repobox's own memory of its reviews (`bot.review.memory`), never
from the text of the thread, so a reply in the thread cannot put words in the finding.
The prompt names each finding's place, severity, message and suggested replacement; the
agent runs in the session's workdir at the merge request's head and reads the lines there.
"""

from __future__ import annotations

from bot.agents.findings import Finding
from bot.forges.provider import FINDING_MARK

FENCE = "~~~~"  # a replacement with ``` in it cannot close this quote


def marked_key(bodies: list[str]) -> str | None:
    """The finding key hidden in the first comment that carries one (the thread's root)."""
    for body in bodies:
        if (found := FINDING_MARK.search(body)) is not None:
            return found.group(1)
    return None


def place(finding: Finding) -> str:
    lines = f"{finding.first}-{finding.line}" if finding.start_line else str(finding.line)
    return f"{finding.path}:{lines}"


def described(number: int, finding: Finding) -> str:
    text = f"{number}. `{place(finding)}` ({finding.severity.value}): {finding.message}"
    if finding.replacement is not None:
        fence = FENCE if "~~~" not in finding.replacement else FENCE + "~~"
        text += (
            f"\n   Suggested replacement for those lines:\n{fence}\n"
            f"{finding.replacement.rstrip(chr(10))}\n{fence}"
        )
    return text


def fix_prompt(findings: list[Finding]) -> str:
    """The prompt that asks the agent to fix `findings` (line numbers: the reviewed head)."""
    one = len(findings) == 1
    head = (
        "Fix this finding of the Repobox review of this merge request"
        if one
        else f"Fix these {len(findings)} findings of the Repobox review of this merge request"
    )
    items = "\n".join(described(i, f) for i, f in enumerate(findings, 1))
    return (
        f"{head}. Line numbers are on the new side of the reviewed diff; read the lines "
        "before you change them, keep the change to what the finding asks, and use the "
        f"suggested replacement where it is right.\n\n{items}\n"
    )
