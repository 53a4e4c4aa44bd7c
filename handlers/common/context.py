"""What every web handler gets: the settings, the async Redis client and the session service."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from bot.commands.service import SessionService
from bot.core.config import Settings
from bot.core.dispatch import AsyncDispatcher


@dataclass
class WebContext:
    """One per web app, which owns the async clients (closed on cleanup): every Redis call a
    request makes is awaited on the loop, through `aredis`, or `readers` for the live
    pages' blocking reads (a pool of their own, so open pages never starve requests)."""

    settings: Settings
    redis: Redis  # not on the loop: the session service's sync parts, the health page's thread
    aredis: AsyncRedis  # the same server, for every call made on the event loop
    readers: AsyncRedis  # the same server, one connection per open live page
    service: SessionService  # the command side, on `aredis`

    @property
    def jobs(self) -> AsyncDispatcher:
        """Enqueues from the loop, in one round trip."""
        return self.service.dispatch


CONTEXT_KEY = web.AppKey("repobox", WebContext)
