"""What every web handler gets: the settings, Redis and the session service."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web
from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from bot.config import Settings
from bot.dispatch import AsyncDispatcher
from bot.lookups import Lookups
from bot.service import SessionService


@dataclass
class WebContext:
    settings: Settings
    redis: Redis
    service: SessionService
    aredis: AsyncRedis  # the same server, for calls made on the event loop
    jobs: AsyncDispatcher = field(init=False)  # enqueues from the loop, in one round trip
    lookups: Lookups = field(init=False)  # the service's reads, from the loop

    def __post_init__(self) -> None:
        self.jobs = AsyncDispatcher(self.service.dispatch, self.aredis)
        self.lookups = Lookups(self.aredis)


CONTEXT_KEY = web.AppKey("repobox", WebContext)
