"""The dashboard's renderer of the executor's replies: one line for the page's notice.

What follows a prompt or a ship (steps, the merge request link) streams into the live
log on the same page, so these lines only say what happened to the request itself.
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
from bot.sessions.prompts import Action


def text(reply: Reply) -> str:
    match reply:
        case Queued(submitted, ship=True) if submitted.prompt.action is Action.UNDO:
            return f"Undo queued (request {submitted.prompt.seq}): it takes back the last run."
        case Queued(submitted, ship=True) if submitted.prompt.action is Action.PICK:
            return f"Picking: {submitted.prompt.text} (request {submitted.prompt.seq})."
        case Queued(submitted, ship=True):
            return f"Shipping (request {submitted.prompt.seq}); the link appears when it is open."
        case Queued(submitted):
            place = (
                f"position {submitted.position} in the queue"
                if submitted.position > 1
                else "next to run"
            )
            return f"Prompt {submitted.prompt.seq} queued ({place})."
        case StatusReply(status):
            s = status.session
            running = f", running prompt {status.running.seq}" if status.running else ""
            waiting = f", {len(status.waiting)} waiting" if status.waiting else ""
            mr = f", merge request {s.merge_request.url}" if s.merge_request else ""
            return f"Session {s.id} is {s.state.value}{running}{waiting}{mr}."
        case DiffReply(_, diff):
            stat = diff.get("stat")
            return f"Changes: {stat['summary']}" if stat else "No changes yet."
        case CancelReply() as cancel:
            return _cancelled(cancel)
        case Archived(session):
            return f"Session {session.id} archived; its workdir will be removed."
        case HelpReply():
            return "Type a prompt, or use the buttons."
        case WhoAmI(person, acting):
            return f"You are {person.name}; commits carry {person.co_author}. {acting}".strip()
        case LogLink(_, url):
            return f"Read-only link: {url}"
        case _:
            assert_never(reply)


def _cancelled(cancel: CancelReply) -> str:
    if cancel.nothing:
        return "Nothing to cancel: no prompt is running or waiting."
    parts = []
    if cancel.cancelled.running is not None:
        parts.append(f"cancelling prompt {cancel.cancelled.running.seq}")
    if cancel.cancelled.dropped:
        parts.append(f"dropped {len(cancel.cancelled.dropped)} waiting prompt(s)")
    return "; ".join(parts).capitalize() + "."
