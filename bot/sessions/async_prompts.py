"""The prompt queue from the event loop: submit, read and drop, on `redis.asyncio`.

Submitting and dropping run the same scripts (`bot.sessions.scripts`) as the workers, so a
prompt the web process queues here is the one a worker takes there (`RunState.take`).
"""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis as AsyncRedis

from bot.core import keys
from bot.core.redisio import as_str
from bot.sessions import scripts
from bot.sessions.origin import Origin
from bot.sessions.prompts import Action, Prompt, Submitted, decoded, dropping, place, submission
from bot.sessions.session import Person


class AsyncPromptQueue:
    def __init__(self, redis: AsyncRedis) -> None:
        self.redis = redis
        self._drop = redis.register_script(scripts.DROP_WAITING)

    async def submit(
        self,
        session_id: str,
        action: Action,
        text: str,
        author: Person,
        request_id: str,
        origin: Origin | None = None,
        *,
        candidates: Sequence[str] = (),
        pick: int | None = None,
    ) -> Submitted:
        """Queue work once per `request_id`: a retried delivery returns the first prompt.

        `candidates`: a comparison's; `pick`: the candidate a pick adopts."""
        names, args = submission(
            session_id, action, text, author, request_id, origin, candidates=candidates, pick=pick
        )
        prompt_id = str(args[0])
        async with self.redis.pipeline(transaction=False) as pipe:  # one round trip
            pipe.eval(scripts.SUBMIT, len(names), *names, *args)  # EVALSHA here would ask first
            pipe.hgetall(keys.prompt(prompt_id))
            pipe.lpos(keys.queue(session_id), prompt_id)
            pipe.llen(keys.running(session_id))
            (created, stored), raw, index, busy = await pipe.execute()
        if as_str(stored) != prompt_id:  # the request made a prompt elsewhere before
            prompt_id = as_str(stored)
            raw = await self.redis.hgetall(keys.prompt(prompt_id))
            index = await self.redis.lpos(keys.queue(session_id), prompt_id)
        return Submitted(decoded(prompt_id, raw), place(index, bool(busy)), bool(created))

    async def get(self, prompt_id: str) -> Prompt:
        return decoded(prompt_id, await self.redis.hgetall(keys.prompt(prompt_id)))

    async def running(self, session_id: str) -> Prompt | None:
        prompt_id = await self.redis.lindex(keys.running(session_id), 0)
        return await self.get(as_str(prompt_id)) if prompt_id is not None else None

    async def last_waiting(self, session_id: str) -> str | None:
        """The id of the newest waiting item (None when nothing waits)."""
        prompt_id = await self.redis.lindex(keys.queue(session_id), -1)
        return as_str(prompt_id) if prompt_id is not None else None

    async def waiting(self, session_id: str) -> list[Prompt]:
        return await self._all(await self.redis.lrange(keys.queue(session_id), 0, -1))

    async def history(self, session_id: str) -> list[Prompt]:
        """Every item of the session, oldest first, in one round trip after the list."""
        return await self._all(await self.redis.lrange(keys.prompts(session_id), 0, -1))

    async def _all(self, ids: list[bytes | str]) -> list[Prompt]:
        if not ids:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for prompt_id in ids:
                pipe.hgetall(keys.prompt(as_str(prompt_id)))
            found = await pipe.execute()
        return [decoded(as_str(i), raw) for i, raw in zip(ids, found, strict=True)]

    async def drop_waiting(self, session_id: str, reason: str) -> list[Prompt]:
        """Cancel every waiting item (cancel and archive), in one step; returns them."""
        names, args = dropping(session_id, reason)
        return await self._all(await self._drop(keys=names, args=args))
