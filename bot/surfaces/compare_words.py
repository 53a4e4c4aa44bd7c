"""Words every surface uses for a comparison's candidates, so Slack and the forges agree.

Plain text: each surface escapes it for its own markup.
"""

from __future__ import annotations

from bot.checks.results import VERDICT, CheckStatus
from bot.sessions.prompts import PromptState

STATES = {
    PromptState.QUEUED: "⏳ starting",
    PromptState.RUNNING: "⚙️ working",
    PromptState.DONE: "✅ done",
    PromptState.FAILED: "❌ failed",
    PromptState.CANCELLED: "⏹️ cancelled",
}
QUIET_SETUP = frozenset({CheckStatus.PASSED.value, CheckStatus.SKIPPED.value})


def check_marks(checks: dict[str, str]) -> list[str]:
    """`⏳ tests`, `✅ lint`: each check as it stands (a setup that went well is left out)."""
    return [
        f"{_icon(status)} {name}"
        for name, status in checks.items()
        if not (name == "setup" and status in QUIET_SETUP)
    ]


def _icon(status: str) -> str:
    try:
        return VERDICT[CheckStatus(status)][0]
    except ValueError:
        return "⏳"  # "running"


def first_line(text: str, *, last: bool = False) -> str:
    """The first (or last) non-empty line of `text`, or ""."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return (lines[-1] if last else lines[0]).strip() if lines else ""
