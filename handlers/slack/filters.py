"""The checks every Slack request passes before a listener sees it, in order.

The route has already verified the signature (401 for a bad or stale one) and read the
body into a typed value; Bolt has looked the bot up with `auth.test` and dropped the
bot's own messages. Then, here: read what Socket Mode hands over; ignore other bots and
message edits; refuse workspaces, channels and people that are not allowed; drop Slack's
redeliveries of an event already taken.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse

from bot.core import dedupe
from handlers.common.context import WebContext
from handlers.common.payload import Malformed
from handlers.slack.replier import Replier
from handlers.slack.request import (
    KEY,
    EventCallback,
    Interaction,
    SlackRequest,
    SlashCommand,
    Unheard,
    place,
    read_mapping,
)

log = logging.getLogger(__name__)

Next = Callable[[], Awaitable[BoltResponse | None]]
Filter = Callable[..., Awaitable[BoltResponse | None]]

# Message subtypes that are still a person talking; everything else (edits, deletes,
# joins, bot messages …) is not for us.
SPOKEN = frozenset({None, "thread_broadcast", "file_share"})


def ok() -> BoltResponse:
    return BoltResponse(status=200, body="")


def typed(context: AsyncBoltContext) -> SlackRequest:
    """The request as the boundary read it (set by the route, or by `read_typed`)."""
    parsed: SlackRequest = context[KEY]
    return parsed


class Claims:
    """Take a Slack id once (Redis SET NX with a TTL); release it when handling crashed, so
    Slack's retry gets another go."""

    def __init__(self, ctx: WebContext) -> None:
        self.redis = ctx.aredis  # on the event loop: never a blocking call

    async def take(self, name: str) -> bool:
        return await dedupe.take(self.redis, f"slack:{name}", dedupe.SLACK_EVENT_TTL)

    async def release(self, name: str) -> None:
        await dedupe.release(self.redis, f"slack:{name}")


class SlackFilters:
    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.claims = Claims(ctx)

    def chain(self) -> list[Filter]:
        return [self.read_typed, self.ignore_noise, self.authorize, self.dedupe]

    async def read_typed(
        self, body: Mapping[str, object], context: AsyncBoltContext, next: Next
    ) -> BoltResponse | None:
        """Socket Mode hands Bolt dicts without passing the HTTP route: read them here."""
        if KEY not in context:
            try:
                context[KEY] = read_mapping(body)
            except Malformed as error:
                log.warning("slack request is malformed (%s); refused", error)
                return BoltResponse(status=400, body="")
        return await next()

    async def ignore_noise(self, context: AsyncBoltContext, next: Next) -> BoltResponse | None:
        parsed = typed(context)
        if isinstance(parsed, Unheard):
            return ok()
        if isinstance(parsed, EventCallback):
            event = parsed.event
            if event.by_bot:
                return ok()
            if event.type == "message" and event.subtype not in SPOKEN:
                return ok()
        return await next()

    async def authorize(self, context: AsyncBoltContext, next: Next) -> BoltResponse | None:
        parsed = typed(context)
        team, channel, user = place(parsed)
        refusal = self.refusal(team, channel, user)
        if refusal is None:
            return await next()
        if isinstance(parsed, SlashCommand):
            return BoltResponse(
                status=200,
                body=json.dumps({"response_type": "ephemeral", "text": refusal}),
                headers={"content-type": "application/json"},
            )
        thread_ts, request = None, None
        if isinstance(parsed, EventCallback) and parsed.event.type == "app_mention":
            thread_ts, request = parsed.event.thread_ts, parsed.event_id
        elif isinstance(parsed, Interaction):
            request = parsed.trigger_id
        if request and channel and user:
            await Replier(
                self.ctx,
                channel=channel,
                user=user,
                thread_ts=thread_ts,
                request_id=f"refusal:{request}",
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

    async def dedupe(self, context: AsyncBoltContext, next: Next) -> BoltResponse | None:
        """Slack redelivers an event it thinks we missed (`X-Slack-Retry-Num`): take each
        `event_id` once."""
        parsed = typed(context)
        if isinstance(parsed, EventCallback) and not await self.claims.take(
            f"event:{parsed.event_id}"
        ):
            return ok()
        return await next()
