"""How Slack shows the executor's replies to one person: as an ephemeral message (the
`Replier`), or in a slash command's acknowledgement.

A queued prompt or ship needs no answer here: its progress arrives in the thread.
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
from bot.commands.grammar import HELP_TEXT
from bot.core.config import Settings
from bot.security.links import session_link
from bot.surfaces.slack import blocks as render
from bot.surfaces.slack import kit
from handlers.slack.replier import Replier

NOTHING_TO_CANCEL = "Nothing is running or waiting, so there is nothing to cancel."

Answer = tuple[str, list[kit.BlockDict] | None]


async def answer(reply: Reply, say: Replier, settings: Settings) -> None:
    shown = rendered(reply, settings)
    if shown is not None:
        await say(*shown)


def rendered(reply: Reply, settings: Settings) -> Answer | None:
    """The text (and blocks) for one reply; None when the thread itself shows the outcome."""
    match reply:
        case Queued() | Archived():
            return None  # the thread's progress and the session's card say it
        case StatusReply(status):
            return render.status(status, session_link(settings, status.session.id))
        case DiffReply(session, diff):
            return render.diff(diff, session_link(settings, session.id))
        case CancelReply() as cancel:
            return (NOTHING_TO_CANCEL, None) if cancel.nothing else None
        case HelpReply():
            return HELP_TEXT, None
        case WhoAmI(person, acting):
            return (
                f"You are <@{person.id}> to me. Commits from your prompts carry "
                f"`Co-authored-by: {kit.escape(person.co_author)}`."
                + (f"\n{kit.escape(acting)}" if acting else ""),
                None,
            )
        case LogLink(session, url):
            return f"<{url}|Live log of session `{session.id}`> (a private link)", None
        case _:
            assert_never(reply)
