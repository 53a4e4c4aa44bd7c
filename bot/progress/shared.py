"""What a surface learns that outlives a session, and where the relay keeps it.

Some of a surface's memory belongs to a workspace or a channel rather than to a session:
Slack's share of `chat.appendStream` per workspace, the channels that refuse streaming, the
slots of a workspace's per-minute tiers (`claim`).
The relay hands the sink a `Shared` over Redis, as it hands it the session's placements,
so a sink names entries (with `bot.core.keys`) but never holds a Redis client. Redis trouble
never fails a reply: an unreadable entry reads as absent and a lost write is logged.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import NamedTuple, Protocol

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

    def claim(self, slots: Sequence[Slot]) -> bool:
        """Take every slot or none (True when unreadable: go ahead)."""
        ...


class Slot(NamedTuple):
    """One entry in a window of at most `limit` live entries (a sorted set, by Redis's own
    clock so hosts' clocks need not agree): `member` holds its place for `hold` seconds.
    A member already in the window always gets its place (its hold is replaced), so a slot
    reserved earlier (a stream's stop, taken with its start) can always be used."""

    key: str
    member: str
    limit: int
    hold: float


# KEYS: the windows; ARGV: per slot its member, limit and hold (ms). Trim every window, check
# every slot (a member already there passes), then take them all: 1, or 0 and nothing taken.
CLAIM = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local member, limit = ARGV[3 * i - 2], tonumber(ARGV[3 * i - 1])
  if not redis.call('ZSCORE', key, member) and redis.call('ZCARD', key) >= limit then
    return 0
  end
end
for i, key in ipairs(KEYS) do
  local hold = tonumber(ARGV[3 * i])
  redis.call('ZADD', key, now + hold, ARGV[3 * i - 2])
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', key, math.max(now + hold, tonumber(last[2])))
end
return 1
"""


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

    def claim(self, slots: Sequence[Slot]) -> bool:
        args: list[str | int] = []
        for slot in slots:
            args += [slot.member, slot.limit, max(1, math.ceil(slot.hold * 1000))]
        try:
            keys = [slot.key for slot in slots]
            return bool(self.redis.eval(CLAIM, len(keys), *keys, *args))
        except RedisError:
            log.warning("shared surface slots %s unreadable: going ahead", slots[0].key)
            return True
