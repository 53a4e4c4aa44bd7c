"""The session service for code off the event loop: RQ jobs, the CLI, tests.

The command side has one implementation, the coroutines of `SessionService` on
`redis.asyncio`. A caller that is not on a loop runs one of them with `run`, which opens
a short-lived async client, awaits the operation in `asyncio.run` and closes the client.
Workers keep the synchronous stores they read and write all through a run (`sessions`,
`prompts`, `dispatch`): only the command side's operations go through here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from redis import Redis

from bot.config import Settings
from bot.dispatch import Dispatcher, SessionJobs
from bot.prompts import PromptQueue
from bot.redisio import async_client
from bot.service import SessionService
from bot.sessions import Session, SessionStore

T = TypeVar("T")


class BlockingService:
    def __init__(self, settings: Settings, redis: Redis, jobs: SessionJobs) -> None:
        self.settings = settings
        self.redis = redis
        self.jobs = jobs
        self.sessions = SessionStore(redis)
        self.prompts = PromptQueue(redis)
        self.dispatch = Dispatcher(redis)

    def run(self, operation: Callable[[SessionService], Awaitable[T]]) -> T:
        """`operation(service)`, awaited to the end: e.g. `run(lambda s: s.status(session))`.

        Never call this from the web process's loop, which awaits the service itself. A
        thread that runs some other loop already (a sync API built on one, such as
        Playwright's in the browser tests) gets the operation on a thread of its own."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self._once(operation))
        with ThreadPoolExecutor(1, thread_name_prefix="blocking-service") as pool:
            return pool.submit(asyncio.run, self._once(operation)).result()

    async def _once(self, operation: Callable[[SessionService], Awaitable[T]]) -> T:
        aredis = async_client(self.redis, shared=None)
        try:
            return await operation(SessionService(self.settings, self.redis, aredis, self.jobs))
        finally:
            await aredis.aclose()

    def kick(self, session: Session, reason: str | None = None) -> None:
        """`SessionService.kick`, for the workers that re-kick a queue (runs, recoveries)."""
        self.run(lambda service: service.kick(session, reason))
