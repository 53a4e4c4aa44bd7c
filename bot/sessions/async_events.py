"""The progress stream from the event loop: the command side's appends and the live page's
blocking reads, on `redis.asyncio`.

The same stream, encoding and trimming as `ProgressStream`, which the workers use; a line
the web process appends here is one a relay reads there.
"""

from __future__ import annotations

from redis.asyncio import Redis as AsyncRedis

from bot.core import keys
from bot.core.redisio import as_str
from bot.sessions.events import STREAM_MAX_LEN, EventKind, ProgressEvent, entries


class AsyncProgressStream:
    def __init__(self, redis: AsyncRedis, session_id: str) -> None:
        self.redis = redis
        self.session_id = session_id
        self.key = keys.events(session_id)

    async def append(self, event: ProgressEvent) -> str:
        event_id = await self.redis.xadd(
            self.key,
            event.to_fields(),  # type: ignore[arg-type]
            maxlen=STREAM_MAX_LEN,
            approximate=True,
        )
        return as_str(event_id)

    async def emit(
        self, kind: EventKind, text: str = "", prompt_id: str | None = None, **data: object
    ) -> str:
        return await self.append(ProgressEvent(kind, text, prompt_id, data))

    async def read(
        self, after: str = "0", count: int = 500, block_ms: int | None = None
    ) -> list[ProgressEvent]:
        """Events after the id `after` ("0" for the start); block up to `block_ms` if none yet."""
        return entries(await self.redis.xread({self.key: after}, count=count, block=block_ms))
