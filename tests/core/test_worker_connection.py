"""A worker's Redis connection: idle for long, it still takes the next job at once.

RQ waits for a job in one blocking call. A wait longer than the socket timeout ends in
"Timeout reading from socket", and RQ then backs off for up to a minute, taking no job.
The test gives the worker a 2 s socket timeout (in its REDIS_URL) instead of waiting out
the default one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from rq.job import Job
from rq.registry import FinishedJobRegistry
from rq.serializers import JSONSerializer

from bot.core.config import Settings
from bot.sessions.session import Person, SessionState, Thread
from jobs.steps.context import JobContext
from jobs.worker.process import queues_for
from tests.conftest import MakeRepo, WorkerProcess, wait_until

SOCKET_TIMEOUT = 2


def test_a_worker_idle_past_its_socket_timeout_takes_the_next_job_at_once(
    ctx: JobContext,
    settings: Settings,
    make_repo: MakeRepo,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    origin = make_repo()
    worker = start_worker(REDIS_URL=f"{settings.redis_url}?socket_timeout={SOCKET_TIMEOUT}")
    wait_until(lambda: ctx.redis.smembers("rq:workers"), what="the worker to register")
    time.sleep(3 * SOCKET_TIMEOUT)  # idle: its wait for jobs outlasts the socket timeout

    started = ctx.service.run(
        lambda svc: svc.start(
            repo=str(origin),
            base=None,
            prompt=None,
            thread=Thread("cli", "idle"),
            person=Person("U1", "Ann"),
            request_id="idle-1",
        )
    )
    wait_until(
        lambda: ctx.service.sessions.get(started.session.id).state is SessionState.READY,
        what="the session's set-up",
    )

    waits = wait_until(  # RQ records a job finished a moment after it has set the session up
        lambda: [wait for name in queues_for(settings) for wait in _pickup_waits(ctx, name)],
        what="the set-up job to be recorded finished",
    )
    assert "Redis" not in worker.log() and "Timeout" not in worker.log(), worker.log()
    assert max(waits) < timedelta(seconds=3), waits  # taken at once: no back-off


def _pickup_waits(ctx: JobContext, queue: str) -> list[timedelta]:
    """How long each finished job of `queue` waited between being enqueued and starting."""
    ids = FinishedJobRegistry(queue, connection=ctx.redis).get_job_ids()
    jobs = Job.fetch_many(ids, connection=ctx.redis, serializer=JSONSerializer)
    return [
        job.started_at - job.enqueued_at
        for job in jobs
        if job is not None and job.started_at and job.enqueued_at
    ]
