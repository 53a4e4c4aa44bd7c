"""The CLI's side of Redis trouble: which of "not running", "unreachable" and "refuses
writes" to say, and following a session's events through an outage without a traceback.

A follower waits out an outage of up to `OUTAGE_PATIENCE` seconds (`watch` from its first
read on, `--watch` once its prompt is queued): the embedded Valkey is restarted by `./dev run`
within a second, and a REDIS_URL server may be restarted by a service manager. After
that long it says Redis is unreachable. Other commands say so at once.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.commands.blocking import BlockingService
from bot.core.config import Settings
from bot.core.errors import UserError
from bot.core.health import RedisHealth, probe
from bot.core.redisio import supervisor_alive
from bot.sessions.events import ProgressEvent, ProgressStream

T = TypeVar("T")

READ_ONLY = frozenset({"status", "list", "watch", "diff"})  # still work while writes are refused

REFUSING_HINT = "Free disk space where its data lives, or raise its maxmemory; reads still work."

OUTAGE_PATIENCE = 300.0  # seconds a follower waits for Redis to answer again, per outage
RETRY_EVERY = 0.5


def unreachable(settings: Settings) -> UserError:
    """Redis does not answer: a configured server is down, or the embedded one is."""
    if settings.redis_url:
        return UserError(
            "Redis is unreachable (REDIS_URL).",
            hint="Check that it is running and reachable from here.",
        )
    if supervisor_alive(settings.data_dir):
        return UserError(
            "Redis is unreachable: Repobox is running but its database is not answering.",
            hint="Repobox restarts it by itself; try again in a moment.",
        )
    return UserError(
        f"Repobox is not running for data dir {settings.data_dir}.",
        hint="Start it with `./dev run`, or set REDIS_URL.",
    )


def health(service: BlockingService, *, patient: bool) -> RedisHealth:
    """Redis's health before a command; a `patient` one (a follower) waits out an outage."""
    found = probe(service.redis)
    while patient and found is RedisHealth.UNREACHABLE:
        wait_for_redis(service)
        found = probe(service.redis)
    return found


def events(service: BlockingService, session_id: str, after: str = "0") -> Iterator[ProgressEvent]:
    """Follow the session's events; through a Redis outage, wait and go on where it left off.

    Reads the caller makes between events go through `patiently`, for the same reason.
    """
    stream = ProgressStream(service.redis, session_id)
    cursor = after
    while True:
        try:
            for event in stream.follow(cursor, block_ms=1000):
                cursor = event.id or cursor
                yield event
        except (RedisConnectionError, RedisTimeoutError, OSError):
            wait_for_redis(service)


def patiently(service: BlockingService, read: Callable[[], T]) -> T:
    """`read()`, waiting through a Redis outage instead of failing."""
    while True:
        try:
            return read()
        except (RedisConnectionError, RedisTimeoutError, OSError):
            wait_for_redis(service)


def wait_for_redis(service: BlockingService, patience: float = OUTAGE_PATIENCE) -> None:
    """Return once Redis answers again; after `patience` seconds, say it is unreachable."""
    print("(lost the connection to Redis; reconnecting…)", file=sys.stderr, flush=True)
    deadline = time.monotonic() + patience
    while True:
        try:
            service.redis.ping()
        except (RedisError, OSError):
            if time.monotonic() >= deadline:
                raise unreachable(service.settings) from None
            time.sleep(RETRY_EVERY)
            continue
        print("(reconnected)", file=sys.stderr, flush=True)
        return
