"""What a job needs, built once per worker process from its `Settings`.

The worker installs the context before it starts taking jobs; RQ forks a work horse per
job, which inherits it. A process that did not install one (e.g. a plain `rq worker`)
builds it from the environment on first use.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis import Redis

from bot.blocking import BlockingService
from bot.config import Settings
from bot.git.mirrors import MirrorCache
from bot.git.workdirs import Workdirs
from bot.redisio import connect, locate


@dataclass
class JobContext:
    settings: Settings
    redis: Redis
    service: BlockingService
    mirrors: MirrorCache
    workdirs: Workdirs


_context: JobContext | None = None


def build(settings: Settings, redis: Redis) -> JobContext:
    from jobs.session_jobs import SESSION_JOBS  # here: that module imports this one

    return JobContext(
        settings=settings,
        redis=redis,
        service=BlockingService(settings, redis, SESSION_JOBS),
        mirrors=MirrorCache(settings.mirrors_dir),
        workdirs=Workdirs(settings.workdirs_dir, settings.pool_dir, settings.pool_size),
    )


def install(settings: Settings, redis: Redis) -> JobContext:
    global _context  # noqa: PLW0603 - one context per worker process, by design
    _context = build(settings, redis)
    return _context


def context() -> JobContext:
    if _context is None:
        settings = Settings.from_env()
        return install(settings, connect(locate(settings)))
    return _context
