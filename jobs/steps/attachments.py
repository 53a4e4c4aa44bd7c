"""A prompt's attachments, fetched by the job before the agent runs (never by the web
process): Slack files from Slack's own file host with the bot token, into the workdir's
private scratch folder. What is not attached is named in a warning step in the thread."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

from redis.exceptions import RedisError

from bot.agents.attachments import Attachment, Wanted, fetch_all, scratch_folder
from bot.core.config import Settings
from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.origin import SlackOrigin
from bot.sessions.prompts import Prompt
from jobs.steps.context import JobContext

log = logging.getLogger(__name__)
SLACK_FILES = "https://files.slack.com"


def slack_file_hosts(settings: Settings) -> frozenset[str]:
    """Slack's file host, and the origin of the Slack API Repobox talks to (a test's fake)."""
    api = urlsplit(settings.slack_api_url)
    return frozenset({SLACK_FILES, f"{api.scheme}://{api.netloc}".lower()})


def prompt_attachments(
    ctx: JobContext, session_id: str, prompt: Prompt, workdir: Path
) -> tuple[Attachment, ...]:
    origin = prompt.origin
    if not isinstance(origin, SlackOrigin) or not origin.files:
        return ()
    stream = ProgressStream(ctx.redis, session_id)
    folder = scratch_folder(workdir)
    token = ctx.settings.slack_bot_token
    if folder is None or not token:
        _say(stream, prompt.id, EventKind.WARNING, "⚠️ the attached files could not be read here")
        return ()
    wanted = [Wanted(f.name, f.url, f.size, f.mimetype) for f in origin.files]
    got, notes = fetch_all(wanted, token=token, hosts=slack_file_hosts(ctx.settings), folder=folder)
    for note in notes:
        _say(stream, prompt.id, EventKind.WARNING, f"⚠️ {note}")
    if got:
        names = ", ".join(a.name for a in got)
        _say(stream, prompt.id, EventKind.INFO, f"📎 attached {names}")
    return tuple(got)


def _say(stream: ProgressStream, prompt_id: str, kind: EventKind, text: str) -> None:
    try:
        stream.emit(kind, text, prompt_id)
    except RedisError:
        log.warning("an attachment note for %s was dropped: Redis refused the write", prompt_id)
