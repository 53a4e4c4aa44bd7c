"""A session's other places: the line its home gets when a prompt is asked on one of them.

A Slack session that shipped `!12` shows the progress of a prompt asked on `!12` there (the
relay of that place); the Slack thread gets one line about it, with a link, as a session
event the home's sink shows (`data.asked_on`, `data.url`).
"""

from __future__ import annotations

from redis import Redis

from bot.commands.grammar import Command
from bot.forges.events import CommentEvent
from bot.sessions.events import EventKind, ProgressStream

LONGEST = 80  # characters of the prompt quoted in the line


def note_text(event: CommentEvent, command: Command, busy: bool) -> str:
    """ "rob asked on !12: rename this → running" """
    mark = "!" if event.provider == "gitlab" and event.kind == "merge_request" else "#"
    said = (command.prompt or command.kind.value.replace("_", " ")).strip()
    first = said.splitlines()[0] if said else ""
    first = first if len(first) <= LONGEST else first[: LONGEST - 1] + "…"
    state = "queued" if busy else "running"
    return f"{event.author.username} asked on {mark}{event.number}: {first} → {state}"


def note_elsewhere(
    redis: Redis, event: CommentEvent, session_id: str, command: Command, busy: bool
) -> None:
    ProgressStream(redis, session_id).emit(
        EventKind.INFO,
        note_text(event, command, busy),
        None,
        asked_on=f"{event.provider}|{event.thread_key}",
        url=event.url,
    )
