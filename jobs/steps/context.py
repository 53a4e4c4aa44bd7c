"""What a job needs, built once per worker process from its `Settings`.

The worker installs the context before it starts taking jobs (`jobs.worker.runtime`); RQ
forks a work horse per job, which inherits it. The session service in it enqueues the
session jobs, which are handed in (`SessionJobs`): steps never import the entry points.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis import Redis

from bot.commands.blocking import BlockingService
from bot.core.config import Settings
from bot.core.dispatch import RUN_QUEUE, SessionJobs
from bot.git.mirrors import MirrorCache
from bot.git.workdirs import Workdirs


@dataclass
class JobContext:
    settings: Settings
    redis: Redis
    service: BlockingService
    mirrors: MirrorCache
    workdirs: Workdirs

    def relay_later(self, session_id: str) -> None:
        """A follow-up relay job: it sends the final reply Slack's budget deferred, so the
        worker that ran the prompt is free for the next one. It queues behind the prompts
        already waiting (the run queue), so they go first."""
        job = self.service.jobs.relay
        if job is not None:
            self.service.dispatch.enqueue(
                job,
                job_id=f"relay-{session_id}-{time.time_ns()}",
                queue=RUN_QUEUE,
                session_id=session_id,
            )


_installed: JobContext | None = None


def build(settings: Settings, redis: Redis, jobs: SessionJobs) -> JobContext:
    return JobContext(
        settings=settings,
        redis=redis,
        service=BlockingService(settings, redis, jobs),
        mirrors=MirrorCache(settings.mirrors_dir),
        workdirs=Workdirs(settings.workdirs_dir, settings.pool_dir, settings.pool_size),
    )


def install(ctx: JobContext) -> JobContext:
    global _installed  # noqa: PLW0603 - one context per worker process, by design
    _installed = ctx
    return ctx


def installed() -> JobContext | None:
    return _installed
