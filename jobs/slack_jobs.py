"""Slack jobs on the fast queue: Web API calls the web process must not make itself."""

from __future__ import annotations

import logging

from bot.progress.relay import Relay
from bot.surfaces.registry import sink_for
from bot.surfaces.slack import kit
from bot.surfaces.slack.calls import SlackCalls
from bot.surfaces.slack.clients import web_client
from jobs.session_jobs import context

log = logging.getLogger(__name__)


def post_ephemeral(
    channel: str,
    user: str,
    text: str,
    blocks: list[kit.BlockDict] | None = None,
    thread_ts: str | None = None,
) -> None:
    """Answer one person privately (help, status, mistakes). Never fails the job: a
    person who left the channel simply does not get the answer."""
    settings = context().settings
    if not settings.slack_bot_token:
        log.warning("cannot answer on Slack: SLACK_BOT_TOKEN is not set")
        return
    fallback, default_blocks = kit.notice(text)
    SlackCalls(web_client(settings)).ephemeral(
        channel=channel,
        user=user,
        text=fallback,
        blocks=blocks or default_blocks,
        thread_ts=thread_ts,
    )


def sync_session(session_id: str) -> None:
    """Relay what the session's stream holds now: posts the card of a new session at once,
    without waiting for a run worker to pick up its set-up."""
    ctx = context()
    with Relay(ctx.settings, ctx.redis, session_id, sinks=sink_for):
        pass
