"""Sessions from the event loop: what the command side reads and writes, on `redis.asyncio`.

The same keys, the same Lua (`bot.sessions.scripts`) and the same decoding as `SessionStore`, which
the workers keep using; a session the web process creates here is one a worker reads there.
Only the calls the command side makes are here; the rest of the life of a session (set-up,
runs, pushes) happens in workers.
"""

from __future__ import annotations

import time

from redis.asyncio import Redis as AsyncRedis

from bot.core import keys
from bot.core.redisio import as_str
from bot.sessions import scripts, starters
from bot.sessions.session import Session, SessionState
from bot.sessions.session_store import decoded, moved_from, present, transition_args
from bot.sessions.starters import Summary


class AsyncSessionStore:
    def __init__(self, redis: AsyncRedis) -> None:
        self.redis = redis
        self._transition = redis.register_script(scripts.TRANSITION)
        self._release = redis.register_script(scripts.RELEASE_IF_OWNER)

    async def create(self, session: Session) -> bool:
        """Store a new session bound to its thread; False if that thread already has one."""
        thread_key = keys.thread(session.thread.surface, session.thread.key)
        if not await self.redis.set(thread_key, session.id, nx=True):
            return False
        async with self.redis.pipeline() as pipe:
            pipe.hset(keys.session(session.id), mapping=session.to_redis())  # type: ignore[arg-type]
            pipe.zadd(keys.sessions_index(), {session.id: session.updated_at})
            starters.index(pipe, Summary.of(session))
            await pipe.execute()
        return True

    async def get(self, session_id: str) -> Session:
        return decoded(session_id, await self.redis.hgetall(keys.session(session_id)))

    async def find_by_thread(self, surface: str, thread_key: str) -> Session | None:
        """The session bound to a thread, if any."""
        session_id = await self.redis.get(keys.thread(surface, thread_key))
        if session_id is None:
            return None
        found = await self.redis.hgetall(keys.session(as_str(session_id)))
        return decoded(as_str(session_id), found) if found else None

    async def touch(self, session_id: str) -> None:
        """Mark activity, which keeps an idle session from being archived."""
        await self.redis.zadd(keys.sessions_index(), {session_id: time.time()}, xx=True)

    async def transition(self, session_id: str, to: SessionState) -> SessionState:
        """Move to `to` if the state machine allows it; return the state it moved from."""
        moved, current = await self._transition(
            keys=[keys.session(session_id)], args=transition_args(to, None)
        )
        previous = moved_from(session_id, to, moved, current)
        await self.touch(session_id)
        return previous

    async def mark_archived(self, session_id: str) -> None:
        """Move the session from the open index to the archived one (retention reads it)."""
        async with self.redis.pipeline() as pipe:
            pipe.zrem(keys.sessions_index(), session_id)
            pipe.zadd(keys.archived_index(), {session_id: time.time()})
            await pipe.execute()

    async def release_thread(self, session: Session) -> None:
        """Unbind the thread so a new session can start there (after archiving), in one
        step: a newer session that took the thread since keeps it."""
        thread = keys.thread(session.thread.surface, session.thread.key)
        await self._release(keys=[thread], args=[session.id])
        places = keys.session_places(session.id)
        for place in await self.redis.smembers(places):  # the merge request it shipped
            surface, _, key = as_str(place).partition("|")
            await self._release(keys=[keys.thread(surface, key)], args=[session.id])
        await self.redis.delete(places)

    async def places(self, session_id: str) -> list[str]:
        """The session's other places (`surface|thread_key`), sorted."""
        return sorted(as_str(p) for p in await self.redis.smembers(keys.session_places(session_id)))

    async def close_place(self, surface: str, thread_key: str) -> str | None:
        """A merge request a session shipped was merged or closed: its thread is no longer
        that session's place. The session bound there; None when none was (a session started
        on the merge request itself keeps its own thread, as before)."""
        bound = await self.redis.get(keys.thread(surface, thread_key))
        if bound is None:
            return None
        session_id = as_str(bound)
        if not await self.redis.srem(keys.session_places(session_id), f"{surface}|{thread_key}"):
            return None
        await self._release(keys=[keys.thread(surface, thread_key)], args=[session_id])
        return session_id

    async def diff(self, session_id: str) -> str | None:
        """The session's diff (JSON) as of its last checkpoint, which `RunState.finish`
        stores so any process can read it without the workdir; None before the first."""
        raw = await self.redis.get(keys.diff(session_id))
        return as_str(raw) if raw else None

    async def exists(self, session_id: str) -> bool:
        return bool(await self.redis.exists(keys.session(session_id)))

    async def recent(self, *, include_archived: bool = False, limit: int = 100) -> list[Session]:
        """Sessions, most recently active first: open ones, then (if asked) archived ones."""
        found = [
            s
            for s in await self.page(archived=False, count=limit)
            if s.state is not SessionState.ARCHIVED
        ]
        if include_archived and len(found) < limit:
            found += await self.page(archived=True, count=limit - len(found))
        return found

    async def page(self, *, archived: bool, start: int = 0, count: int = 50) -> list[Session]:
        """One page of open sessions by last activity, or of archived ones by archive time,
        in two round trips."""
        index = keys.archived_index() if archived else keys.sessions_index()
        ids = [as_str(i) for i in await self.redis.zrevrange(index, start, start + count - 1)]
        if not ids:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for session_id in ids:
                pipe.hgetall(keys.session(session_id))
            return present(await pipe.execute())
