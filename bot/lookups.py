"""The session service's reads, from the event loop: what the web process looks up on each
request (the session of a thread, a session and its prompts, a channel's linked repository,
the open sessions) with `redis.asyncio`, so a page or a mention never blocks the loop.

Same keys and the same decoding as `SessionStore`, `PromptQueue` and `SessionService`;
writes (start, submit, cancel …) still go through the service, whose state changes are
Lua scripts run by the synchronous client."""

from __future__ import annotations

from redis.asyncio import Redis as AsyncRedis

from bot import keys
from bot.errors import NotFound
from bot.prompts import Prompt
from bot.redisio import as_str
from bot.sessions import Session, SessionState


class Lookups:
    def __init__(self, aredis: AsyncRedis) -> None:
        self.redis = aredis

    async def session(self, session_id: str) -> Session:
        raw = await self.redis.hgetall(keys.session(session_id))
        if not raw:
            raise NotFound(f"There is no session `{session_id}`.")
        return Session.from_redis({as_str(k): as_str(v) for k, v in raw.items()})

    async def by_thread(self, surface: str, thread_key: str) -> Session | None:
        """The session bound to a thread, if any (`SessionStore.find_by_thread`)."""
        session_id = await self.redis.get(keys.thread(surface, thread_key))
        if session_id is None:
            return None
        try:
            return await self.session(as_str(session_id))
        except NotFound:
            return None

    async def prompt(self, prompt_id: str) -> Prompt:
        raw = await self.redis.hgetall(keys.prompt(prompt_id))
        if not raw:
            raise NotFound(f"There is no prompt `{prompt_id}`.")
        return Prompt.from_redis({as_str(k): as_str(v) for k, v in raw.items()})

    async def history(self, session_id: str) -> list[Prompt]:
        """Every prompt of the session, oldest first, in one round trip after the list."""
        ids = await self.redis.lrange(keys.prompts(session_id), 0, -1)
        if not ids:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for prompt_id in ids:
                pipe.hgetall(keys.prompt(as_str(prompt_id)))
            found = await pipe.execute()
        prompts = []
        for prompt_id, raw in zip(ids, found, strict=True):
            if not raw:
                raise NotFound(f"There is no prompt `{as_str(prompt_id)}`.")
            prompts.append(Prompt.from_redis({as_str(k): as_str(v) for k, v in raw.items()}))
        return prompts

    async def linked_repo(self, surface: str, channel: str) -> str | None:
        raw = await self.redis.get(keys.channel_link(surface, channel))
        return as_str(raw) if raw is not None else None

    async def open_sessions(self, limit: int = 100) -> list[Session]:
        """Open sessions, most recently active first (`SessionStore.recent`)."""
        ids = await self.redis.zrevrange(keys.sessions_index(), 0, limit - 1)
        if not ids:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for session_id in ids:
                pipe.hgetall(keys.session(as_str(session_id)))
            found = await pipe.execute()
        sessions = [
            Session.from_redis({as_str(k): as_str(v) for k, v in raw.items()})
            for raw in found
            if raw  # an expired one whose index entry retention has not swept yet
        ]
        return [s for s in sessions if s.state is not SessionState.ARCHIVED]
