"""Which Slack errors mean "no streaming here", and the memory of them per channel.

A workspace on an older plan, an Enterprise policy or a channel type that cannot stream
answers `chat.startStream` with one of `CHANNEL_REFUSALS`. That does not change from one
prompt to the next, so it is remembered per channel (with a TTL, since admins do change
policies) and the next reply goes straight to edited messages without asking again.
Recipient errors are about one person (an external user in a shared channel), so they
fall back once and are not remembered. `STREAM_GONE` means the stream ended under us
(Slack ends streams after a few minutes, or the reader stopped it): a new one is started.
"""

from __future__ import annotations

import logging

from redis import Redis
from redis.exceptions import RedisError

from bot import keys
from bot.redisio import as_str

log = logging.getLogger(__name__)

REFUSAL_TTL = 7 * 24 * 3600

CHANNEL_REFUSALS = frozenset(
    {
        "channel_type_not_supported",
        "method_not_supported_for_channel_type",
        "enterprise_is_restricted",
        "not_supported",
        "unknown_method",
        "method_deprecated",
        "missing_scope",
        "not_allowed_token_type",
    }
)
ONE_OFF_REFUSALS = frozenset(
    {"missing_recipient_user_id", "missing_recipient_team_id", "user_not_found", "team_not_found"}
)
STREAM_GONE = frozenset({"message_not_in_streaming_state", "stopped_by_user", "message_not_found"})


class RefusalMemory:
    """Channels where Slack refused streaming, kept in Redis for `ttl` seconds.

    Redis trouble never fails a reply: an unreadable memory means "try streaming"."""

    def __init__(self, redis: Redis, ttl: int = REFUSAL_TTL) -> None:
        self.redis = redis
        self.ttl = ttl

    def refused(self, team_id: str | None, channel: str) -> str | None:
        """The error code Slack refused streaming with in this channel, if it did lately."""
        try:
            raw = self.redis.get(keys.slack_stream_refused(team_id or "-", channel))
        except RedisError:
            log.warning("could not read the streaming refusal of %s", channel)
            return None
        return None if raw is None else as_str(raw)

    def remember(self, team_id: str | None, channel: str, code: str) -> None:
        try:
            self.redis.set(keys.slack_stream_refused(team_id or "-", channel), code, ex=self.ttl)
        except RedisError:
            log.warning("could not record the streaming refusal of %s", channel)

    def forget(self, team_id: str | None, channel: str) -> None:
        try:
            self.redis.delete(keys.slack_stream_refused(team_id or "-", channel))
        except RedisError:
            log.warning("could not clear the streaming refusal of %s", channel)
