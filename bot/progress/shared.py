"""What a surface learns that outlives a session, and where the relay keeps it.

Some of a surface's memory belongs to a workspace or a channel rather than to a session:
Slack's share of `chat.appendStream` per workspace, the channels that refuse streaming.
The relay hands the sink a `Shared` over Redis, as it hands it the session's placements,
so a sink names entries (with `bot.core.keys`) but never holds a Redis client. Redis trouble
never fails a reply: an unreadable entry reads as absent and a lost write is logged.
"""

from __future__ import annotations

import logging
import math
from typing import Protocol

from redis import Redis
from redis.exceptions import RedisError

from bot.core.redisio import as_str

log = logging.getLogger(__name__)


class Shared(Protocol):
    """Small strings that expire, and counters that expire, named by `bot.core.keys`."""

    def get(self, key: str) -> str | None: ...

    def put(self, key: str, value: str, ttl: float) -> None: ...

    def drop(self, key: str) -> None: ...

    def count(self, key: str, ttl: float) -> int:
        """Add one and say how many so far (0 when unreadable: go ahead)."""
        ...


class RedisShared:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def get(self, key: str) -> str | None:
        try:
            raw = self.redis.get(key)
        except RedisError:
            log.warning("shared surface memory %s unreadable", key)
            return None
        return None if raw is None else as_str(raw)

    def put(self, key: str, value: str, ttl: float) -> None:
        try:
            self.redis.set(key, value, ex=max(1, math.ceil(ttl)))
        except RedisError:
            log.warning("shared surface memory %s not written", key)

    def drop(self, key: str) -> None:
        try:
            self.redis.delete(key)
        except RedisError:
            log.warning("shared surface memory %s not cleared", key)

    def count(self, key: str, ttl: float) -> int:
        try:
            pipe = self.redis.pipeline()
            pipe.incr(key)
            pipe.expire(key, max(1, math.ceil(ttl)))
            return int(pipe.execute()[0])
        except RedisError:
            log.warning("shared surface counter %s unreadable", key)
            return 0
