"""Bounded data: an archived session and everything it owns go after REPOBOX_RETENTION_DAYS.

Archiving sets that expiry on every key of the session (so Redis drops them even if no
worker runs), and the retention pass deletes them outright from the archived index, which
also catches a key written again after archiving (a late relay write has no expiry).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable

from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from bot.core import keys
from bot.core.redisio import as_str
from bot.sessions.session import Thread
from bot.sessions.session_store import SessionStore
from bot.sessions.starters import FIELDS, Summary, unindex

SURFACES = ("relay", "slack", "gitlab", "github", "relay:gitlab", "relay:github")  # + place relays


def session_keys(redis: Redis, session_id: str) -> list[str]:
    """Every key that belongs to the session: its hash, queues, log, diff, copies, prompts."""
    return owned_keys(session_id, redis.lrange(keys.prompts(session_id), 0, -1))


def owned_keys(session_id: str, prompt_ids: Iterable[object]) -> list[str]:
    """The session's keys, given the ids on its prompt list (read by the caller, sync or not)."""
    owned = [
        keys.session(session_id),
        keys.prompts(session_id),
        keys.queue(session_id),
        keys.running(session_id),
        keys.run_lock(session_id),
        keys.lease(session_id),
        keys.resume_kick(session_id),
        keys.drain_job(session_id),
        keys.cancel(session_id),
        keys.events(session_id),
        keys.diff(session_id),
        keys.checkpoint(session_id),
        keys.comparison(session_id),
    ]
    for surface in SURFACES:
        owned += [keys.surface_state(session_id, surface), keys.surface_lock(session_id, surface)]
    return owned + [keys.prompt(as_str(p)) for p in prompt_ids]


async def expire_archived(redis: AsyncRedis, session_id: str, seconds: float) -> None:
    """`expire_session` from the event loop (archiving a session from the command side)."""
    prompt_ids = await redis.lrange(keys.prompts(session_id), 0, -1)
    async with redis.pipeline(transaction=False) as pipe:
        for key in owned_keys(session_id, prompt_ids):
            pipe.expire(key, max(1, int(seconds)))
        await pipe.execute()


def expire_session(redis: Redis, session_id: str, seconds: float) -> None:
    """Let Redis drop the session's data after `seconds` (set when it is archived)."""
    ttl = max(1, int(seconds))
    pipe = redis.pipeline(transaction=False)
    for key in session_keys(redis, session_id):
        pipe.expire(key, ttl)
    pipe.execute()


def purge_expired(redis: Redis, retention: float, batch: int = 200) -> list[str]:
    """Delete archived sessions older than `retention` seconds; returns their ids."""
    cutoff = time.time() - retention
    ids = [
        as_str(i)
        for i in redis.zrangebyscore(keys.archived_index(), "-inf", cutoff, start=0, num=batch)
    ]
    for session_id in ids:
        thread = redis.hget(keys.session(session_id), "thread")
        fields = redis.hmget(keys.session(session_id), list(FIELDS))
        listed = Summary.from_fields(session_id, fields)
        doomed = session_keys(redis, session_id)
        pipe = redis.pipeline()
        if listed is not None:  # its dashboard entries go with it
            unindex(pipe, listed)
        pipe.delete(*doomed)
        pipe.zrem(keys.archived_index(), session_id)
        pipe.execute()
        if thread is not None:  # the binding goes too, unless a newer session took it
            SessionStore(redis).unbind(Thread.from_dict(json.loads(thread)), session_id)
    return ids
