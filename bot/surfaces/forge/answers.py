"""How GitLab and GitHub show the executor's replies: one comment of markdown (or none).

A queued prompt or ship needs no comment here: its progress card follows.
"""

from __future__ import annotations

from typing import assert_never

from bot.commands.executor import (
    Archived,
    CancelReply,
    DiffReply,
    HelpReply,
    LogLink,
    Queued,
    Reply,
    StatusReply,
    WhoAmI,
)
from bot.surfaces.forge import replies as forge_replies


def answer_text(reply: Reply, bot_name: str) -> str | None:
    match reply:
        case Queued():
            return None
        case StatusReply(status):
            return forge_replies.status_text(status)
        case DiffReply(_, diff):
            return forge_replies.diff_text(diff)
        case CancelReply(cancelled):
            dropped = f" and dropped {len(cancelled.dropped)} waiting" if cancelled.dropped else ""
            stopped = "Stopping the run" if cancelled.running else "Nothing was running"
            return f"{stopped}{dropped}."
        case Archived(session):
            return f"Archived session `{session.id}`. Mention me again to start a new one."
        case HelpReply():
            return forge_replies.help_text(bot_name)
        case WhoAmI(person, acting):
            return (
                f"You are `{person.id}` ({person.name}) to me. Commits from your prompts carry "
                f"`Co-authored-by: {person.co_author}`." + (f"\n{acting}" if acting else "")
            )
        case LogLink(session, url):
            return f"[Live log of session `{session.id}`]({url})"
        case _:
            assert_never(reply)
