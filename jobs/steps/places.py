"""A session's other places: the line its home gets when a prompt is asked on one of them,
and the review thread a prompt was asked in, resolved once its change has landed.

A Slack session that shipped `!12` shows the progress of a prompt asked on `!12` there (the
relay of that place); the Slack thread gets one line about it, with a link, as a session
event the home's sink shows (`data.asked_on`, `data.url`). A prompt asked in a review
thread is answered in that thread; when its commit is pushed and the required checks pass,
that thread (and only that one: Repobox never resolves a thread it did not act on) is
resolved.
"""

from __future__ import annotations

import logging

from redis import Redis

from bot.commands.grammar import Command
from bot.core.errors import RepoboxError
from bot.forges.events import CommentEvent
from bot.forges.registry import forge_for
from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.origin import ForgeOrigin
from bot.sessions.prompts import Prompt
from bot.sessions.session import Session
from jobs.steps.context import JobContext
from jobs.steps.review import reviewer_of

log = logging.getLogger(__name__)

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


def resolve_where_asked(ctx: JobContext, session: Session, prompt: Prompt) -> bool:
    """Resolve the review thread `prompt` was asked in; whether it was. Never fails the run."""
    origin = prompt.origin
    if not isinstance(origin, ForgeOrigin) or origin.review is None:
        return False
    reply = origin.reply
    thread = reply.discussion_id or (
        str(reply.review_comment_id) if reply.review_comment_id else None
    )
    provider = origin.place_surface or session.provider
    if thread is None or reply.kind != "merge_request":
        return False
    try:
        done = reviewer_of(forge_for(provider, ctx.settings)).resolve_thread(
            reply.project, reply.number, thread
        )
    except RepoboxError as error:
        log.warning("review thread of %s not resolved: %s", prompt.id, error)
        return False
    if done:
        ProgressStream(ctx.redis, session.id).emit(
            EventKind.INFO, "Resolved the review thread: the change landed and its checks pass.",
            prompt.id,
        )  # fmt: skip
    return done
