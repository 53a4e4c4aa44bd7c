"""Forge comments take their places in a session in the order the forge numbered them.

Each comment becomes its own job, and a job calls the forge (identity, rights, the 👀)
before it reaches the session's queue; with two workers, two comments written a moment
apart could otherwise reach the queue swapped (an `undo` run after the `ship it` written
after it). So the webhook handler reserves each comment's place in its thread's *lane*
when it arrives, and a job that has done its slow part marks its comment ready and then
runs, in order, every ready comment at the head of the lane: whichever job gets there
first runs the others' commands too, and no job ever waits for a job still queued (one
worker cannot deadlock).

A lane is one thread and one numbering: GitLab numbers every note of a project alike, but
GitHub numbers conversation comments, review comments and reviews apart, so on GitHub
each is a lane of its own (their ids cannot be compared).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from bot.core import keys
from bot.core.redisio import as_str
from bot.forges.events import CommentEvent

LANE_TTL = 24 * 3600  # a thread quiet for a day forgets its lane
SKIP = "skip"
RESERVED = "reserved:"
# A reservation whose job is gone (lost with its worker, never enqueued) stops blocking
# the lane after this long; a job's slow part takes seconds, its timeout is 600 s.
STALE_AFTER = 660.0
LOCK_TIMEOUT = 900


def lane(event: CommentEvent) -> str:
    """The Redis key of the comment's lane (see the module's docstring)."""
    source = "note" if event.provider == "gitlab" else event.request_id.split("-")[1]
    return keys.forge(event.provider, f"order:{event.thread_key}:{source}")


def _states(lane_key: str) -> str:
    return lane_key + ":state"


async def reserve(aredis: AsyncRedis, event: CommentEvent, now: float | None = None) -> None:
    """The comment's place, taken as the webhook arrives (before its job is enqueued)."""
    name = lane(event)
    stamp = time.time() if now is None else now
    async with aredis.pipeline(transaction=True) as pipe:
        pipe.zadd(name, {event.request_id: event.comment_id}, nx=True)
        pipe.hsetnx(_states(name), event.request_id, f"{RESERVED}{stamp}")
        pipe.expire(name, LANE_TTL)
        pipe.expire(_states(name), LANE_TTL)
        await pipe.execute()


async def forget(aredis: AsyncRedis, event: CommentEvent) -> None:
    """The reservation of a comment whose job could not be enqueued after all."""
    name = lane(event)
    await aredis.zrem(name, event.request_id)
    await aredis.hdel(_states(name), event.request_id)


class CommentOrder:
    """A job's side of the lane: mark its comment ready (or skipped), then run the head."""

    def __init__(self, redis: Redis, event: CommentEvent) -> None:
        self.redis = redis
        self.event = event
        self.lane = lane(event)

    def reserved(self) -> bool:
        """False for a job enqueued without a reservation (by an older web process)."""
        return self.redis.hexists(_states(self.lane), self.event.request_id) == 1

    def skip(self) -> None:
        """The comment asks nothing of the session (a bot's, refused, failed): it no longer
        holds the comments after it back."""
        self.redis.hset(_states(self.lane), self.event.request_id, SKIP)

    def ready(self, record: dict[str, Any]) -> None:
        """The comment's command may run once every comment before it has run."""
        self.redis.hset(_states(self.lane), self.event.request_id, json.dumps(record))

    def run_ready(self, run: Callable[[dict[str, Any]], None]) -> None:
        """Run, in order, every ready comment at the head of the lane (this job's and any
        other job's), one job at a time; stop at a comment whose job is still at work."""
        with self._locked():
            while (head := self._head()) is not None:
                state = self.redis.hget(_states(self.lane), head)
                text = as_str(state) if state is not None else SKIP
                if text.startswith(RESERVED) and not self._stale(text):
                    return  # its job will run it, and those after it
                self.redis.zrem(self.lane, head)
                self.redis.hdel(_states(self.lane), head)
                if text.startswith(RESERVED) or text == SKIP:
                    continue
                run(json.loads(text))

    def _head(self) -> str | None:
        found = self.redis.zrange(self.lane, 0, 0)
        return as_str(found[0]) if found else None

    @staticmethod
    def _stale(state: str) -> bool:
        try:
            since = float(state.removeprefix(RESERVED))
        except ValueError:
            return True
        return time.time() - since > STALE_AFTER

    @contextmanager
    def _locked(self) -> Iterator[None]:
        lock = self.redis.lock(self.lane + ":lock", timeout=LOCK_TIMEOUT, blocking_timeout=None)
        lock.acquire()
        try:
            yield
        finally:
            lock.release()
