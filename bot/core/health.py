"""Is Redis usable? Reachable is not enough: a full disk (MISCONF) or maxmemory with
`noeviction` (OOM) refuses writes while reads and PING still work, so the probe writes.

`persist` retries a write through a short outage or a spell of refused writes, so a run
that ended well is recorded once Redis takes writes again instead of being lost.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from enum import StrEnum
from typing import TypeVar

from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError, ReadOnlyError, RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.core import keys

log = logging.getLogger(__name__)

T = TypeVar("T")

# redis-py turns some of these into their own classes and drops the prefix; inside a Lua
# script they arrive as a plain script error that quotes them.
REFUSING_WORDS = ("OOM", "MISCONF", "READONLY", "NOREPLICAS", "maxmemory")


class RedisHealth(StrEnum):
    OK = "ok"
    UNREACHABLE = "unreachable"
    REFUSES_WRITES = "refuses-writes"

    @property
    def message(self) -> str:
        return {
            RedisHealth.OK: "Redis is fine.",
            RedisHealth.UNREACHABLE: "Redis is unreachable.",
            RedisHealth.REFUSES_WRITES: "Redis refuses writes (disk full / out of memory).",
        }[self]


def refuses_writes(error: BaseException) -> bool:
    if isinstance(error, OutOfMemoryError | ReadOnlyError):
        return True
    return isinstance(error, ResponseError) and any(w in str(error) for w in REFUSING_WORDS)


def transient(error: BaseException) -> bool:
    """An outage or refused writes: worth waiting out, unlike a bug."""
    return isinstance(error, RedisConnectionError | RedisTimeoutError | OSError) or refuses_writes(
        error
    )


def probe(redis: Redis) -> RedisHealth:
    try:
        redis.set(keys.health_probe(), repr(time.time()), px=60_000)
    except ResponseError as error:
        if refuses_writes(error):
            return RedisHealth.REFUSES_WRITES
        raise
    except (RedisError, OSError):
        return RedisHealth.UNREACHABLE
    return RedisHealth.OK


async def probe_async(redis: AsyncRedis) -> RedisHealth:
    """`probe` for the web process's event loop (the same write, never blocking the loop)."""
    try:
        await redis.set(keys.health_probe(), repr(time.time()), px=60_000)
    except ResponseError as error:
        if refuses_writes(error):
            return RedisHealth.REFUSES_WRITES
        raise
    except (RedisError, OSError):
        return RedisHealth.UNREACHABLE
    return RedisHealth.OK


def persist(write: Callable[[], T], *, patience: float, what: str) -> T:
    """Run `write`, retrying through outages and refused writes for up to `patience` s."""
    deadline = time.monotonic() + patience
    delay = 0.2
    while True:
        try:
            return write()
        except (RedisError, OSError) as error:
            if not transient(error) or time.monotonic() + delay > deadline:
                raise
            log.warning("%s: Redis is not taking writes (%s); retrying", what, error)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
