"""The checks every Slack request passes before a listener sees it, in order.

Bolt has already verified the signature (401 for a bad or stale one), looked the bot up
with `auth.test` and dropped the bot's own messages. Then, here: ignore other bots and
message edits; refuse workspaces, channels and people that are not allowed; drop Slack's
redeliveries of an event already taken.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse

from bot import keys
from handlers.slack_events import Replier
from handlers.web import WebContext

Next = Callable[[], Awaitable[BoltResponse | None]]
Filter = Callable[..., Awaitable[BoltResponse | None]]

CLAIM_TTL = 24 * 3600
# Message subtypes that are still a person talking; everything else (edits, deletes,
# joins, bot messages …) is not for us.
SPOKEN = frozenset({None, "thread_broadcast", "file_share"})


def ok() -> BoltResponse:
    return BoltResponse(status=200, body="")


class Claims:
    """Take a Slack id once (Redis SET NX with a TTL); release it when handling crashed, so
    Slack's retry gets another go."""

    def __init__(self, ctx: WebContext) -> None:
        self.redis = ctx.redis

    def take(self, name: str) -> bool:
        return bool(self.redis.set(keys.request(f"slack:{name}"), "1", nx=True, ex=CLAIM_TTL))

    def release(self, name: str) -> None:
        self.redis.delete(keys.request(f"slack:{name}"))


class SlackFilters:
    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.claims = Claims(ctx)

    def chain(self) -> list[Filter]:
        return [self.ignore_noise, self.authorize, self.dedupe]

    async def ignore_noise(self, body: dict[str, Any], next: Next) -> BoltResponse | None:
        event = _event(body)
        if event is not None:
            if event.get("bot_id") or event.get("bot_profile"):
                return ok()
            if event.get("type") == "message" and event.get("subtype") not in SPOKEN:
                return ok()
        return await next()

    async def authorize(
        self, body: dict[str, Any], context: AsyncBoltContext, next: Next
    ) -> BoltResponse | None:
        refusal = self.refusal(context.team_id, context.channel_id, context.user_id)
        if refusal is None:
            return await next()
        if body.get("command"):
            return BoltResponse(
                status=200,
                body=json.dumps({"response_type": "ephemeral", "text": refusal}),
                headers={"content-type": "application/json"},
            )
        event = _event(body) or {}
        explicit = event.get("type") == "app_mention" or body.get("type") == "block_actions"
        if explicit and context.channel_id and context.user_id:
            Replier(
                self.ctx,
                channel=context.channel_id,
                user=context.user_id,
                thread_ts=event.get("thread_ts"),
                request_id=f"refusal:{body.get('event_id') or body.get('trigger_id')}",
            )(refusal)
        return ok()

    def refusal(self, team: str | None, channel: str | None, user: str | None) -> str | None:
        """Why this person may not use Repobox here, in words for them; None if they may."""
        s = self.settings
        if s.allowed_slack_teams and team not in s.allowed_slack_teams:
            return "Repobox is not enabled for this workspace."
        if s.allowed_slack_channels and channel and channel not in s.allowed_slack_channels:
            return "Repobox is not enabled in this channel. Ask an admin to add it."
        if s.allowed_slack_users and user and user not in s.allowed_slack_users:
            return "Sorry, you are not on the list of people who may use Repobox here."
        return None

    async def dedupe(self, body: dict[str, Any], next: Next) -> BoltResponse | None:
        """Slack redelivers an event it thinks we missed (`X-Slack-Retry-Num`): take each
        `event_id` once."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not self.claims.take(f"event:{event_id}"):
            return ok()
        return await next()


def _event(body: dict[str, Any]) -> dict[str, Any] | None:
    event = body.get("event") if body.get("type") == "event_callback" else None
    return event if isinstance(event, dict) else None
