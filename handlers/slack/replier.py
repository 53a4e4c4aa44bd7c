"""Answering one person privately on Slack, bound once per request and then called."""

from __future__ import annotations

from bot.core.dispatch import FAST_QUEUE
from bot.surfaces.slack.kit import BlockDict
from handlers.common.context import WebContext
from jobs.slack_jobs import post_ephemeral


class Replier:
    """Answers one person privately (chat.postEphemeral, from a fast job: a Web API call
    never runs in the web process). Bound once per request, then awaited: the job is
    enqueued from the event loop (`AsyncDispatcher`), never blocking it."""

    def __init__(
        self,
        ctx: WebContext,
        *,
        channel: str,
        user: str,
        thread_ts: str | None,
        request_id: str,
    ) -> None:
        self.ctx = ctx
        self.channel = channel
        self.user = user
        self.thread_ts = thread_ts
        self.request_id = request_id
        self.sent = 0

    async def __call__(self, text: str, blocks: list[BlockDict] | None = None) -> None:
        self.sent += 1
        await self.ctx.jobs.enqueue(
            post_ephemeral,
            job_id=f"slack-answer-{self.request_id}-{self.sent}",
            queue=FAST_QUEUE,
            timeout=120,
            channel=self.channel,
            user=self.user,
            text=text,
            blocks=blocks,
            thread_ts=self.thread_ts,
        )
