"""The worker's job context, wired with the session jobs it enqueues.

`install` is what the worker process (and a test standing in for one) calls before it
takes jobs; the entry points read the installed context (`jobs.session_jobs.context`).
"""

from __future__ import annotations

from redis import Redis

from bot.core.config import Settings
from jobs.session_jobs import SESSION_JOBS
from jobs.steps import context as job_context
from jobs.steps.context import JobContext


def build(settings: Settings, redis: Redis) -> JobContext:
    return job_context.build(settings, redis, SESSION_JOBS)


def install(settings: Settings, redis: Redis) -> JobContext:
    return job_context.install(build(settings, redis))
