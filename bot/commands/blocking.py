"""The session service for code off the event loop: RQ jobs, the CLI, tests.

The command side has one implementation, the coroutines of `SessionService` on
`redis.asyncio`. A caller that is not on a loop runs one of them with `run`, which opens
a short-lived async client, awaits the operation in `asyncio.run` and closes the client
(`bot.core.redisio.run_async`, which the account store's sync callers use too).
Workers keep the synchronous stores they read and write all through a run (`sessions`,
`prompts`, `dispatch`): only the command side's operations go through here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis import Redis

from bot.commands.service import SessionService
from bot.core.config import Settings
from bot.core.dispatch import Dispatcher, SessionJobs
from bot.core.redisio import run_async
from bot.sessions.prompts import PromptQueue
from bot.sessions.session import Session
from bot.sessions.session_store import SessionStore

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
        """`operation(service)`, awaited to the end: e.g. `run(lambda s: s.status(session))`
        (`bot.core.redisio.run_async`: a short-lived async client; never from the web loop)."""
        return run_async(
            self.redis,
            lambda aredis: operation(SessionService(self.settings, self.redis, aredis, self.jobs)),
        )

    def kick(self, session: Session, reason: str | None = None) -> None:
        """`SessionService.kick`, for the workers that re-kick a queue (runs, recoveries)."""
        self.run(lambda service: service.kick(session, reason))
