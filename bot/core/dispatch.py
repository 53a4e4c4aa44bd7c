"""Enqueue RQ jobs by function reference, so the type checker sees a renamed job.

`bot/` never imports `jobs/` (imports flow handlers → jobs → bot): whoever builds the
session service hands it the jobs it enqueues (`SessionJobs`, defined in jobs/).
Job arguments are JSON (RQ's JSONSerializer, never pickle) and hold ids, not secrets.
Job ids are derived from the request, so enqueueing the same request twice is a no-op.
`AsyncDispatcher` is the web process's enqueue: the same job, written from the event loop.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from rq import Queue
from rq.exceptions import DuplicateJobError, InvalidJobOperation
from rq.job import Job, JobStatus
from rq.scripts import UNIQUE_ENQUEUE_SCRIPT
from rq.serializers import JSONSerializer
from rq.utils import now

log = logging.getLogger(__name__)

RUN_QUEUE = "repobox"
FAST_QUEUE = "repobox-fast"
RESULT_TTL = 3600
FAILURE_TTL = 7 * 24 * 3600


def host_queue(host: str) -> str:
    """The queue only the workers of one machine listen on (a session's workdir lives there)."""
    return f"repobox-host-{safe_id(host)}"


def safe_id(value: str, limit: int = 120) -> str:
    """RQ job ids may hold only letters, digits, `_` and `-` (Slack ts values hold `.`).

    A part of a longer id takes a smaller `limit`, so the whole still fits in 120."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", value)[:limit]


class SessionJob(Protocol):
    """A job that works on one session."""

    def __call__(self, session_id: str) -> None: ...


@dataclass(frozen=True)
class SessionJobs:
    """The jobs the session service enqueues, handed in by its builder (jobs/ defines
    them in `jobs.session_jobs.SESSION_JOBS`), so each is a checked function reference."""

    init: SessionJob
    drain: SessionJob
    retire: SessionJob
    relay: SessionJob | None = None  # a follow-up relay: a final reply pacing deferred


class Dispatcher:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def queue(self, name: str) -> Queue:
        return Queue(name, connection=self.redis, serializer=JSONSerializer)

    def enqueue(
        self,
        function: Callable[..., object],
        *,
        job_id: str,
        queue: str = RUN_QUEUE,
        timeout: float = 600,
        **kwargs: object,
    ) -> bool:
        """Enqueue `function(**kwargs)` once per `job_id`; False if that job already exists."""
        job_id = safe_id(job_id)
        try:
            self.queue(queue).enqueue(
                function,
                kwargs=kwargs,
                job_id=job_id,
                unique=True,
                job_timeout=int(timeout),
                result_ttl=RESULT_TTL,
                failure_ttl=FAILURE_TTL,
                description=f"{function.__name__} {job_id}",
            )
        except DuplicateJobError:
            log.info("job %s already enqueued; not enqueued again", job_id)
            return False
        return True

    def depth(self) -> dict[str, int]:
        """Jobs waiting per queue (for status and metrics)."""
        return {name: self.queue(name).count for name in (RUN_QUEUE, FAST_QUEUE)}


PENDING = frozenset({JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED})


def job_pending(redis: Redis, job_id: str) -> bool:
    """Whether RQ still holds job `job_id` to run (queued, running, deferred or scheduled);
    False once it finished, failed, was stopped or is gone."""
    try:
        return Job(job_id, connection=redis).get_status(refresh=True) in PENDING
    except InvalidJobOperation:  # no such job (expired or never written)
        return False


class AsyncDispatcher:
    """`Dispatcher.enqueue` from the event loop, in one round trip and without a thread.

    RQ builds the job (`Queue.create_job`, no I/O) and its own unique-enqueue script
    (`rq.scripts.UNIQUE_ENQUEUE_SCRIPT`) writes it, as RQ 3.0's
    `Queue.enqueue_job(unique=True)` does: `SADD rq:queues rq:queue:<name>`, then the
    script's `EXISTS rq:job:<id>` check, `HSET` of the job's fields (`Job.to_dict`),
    `EXPIRE` when the job has a TTL and `RPUSH rq:queue:<name> <id>`. Both go in one
    pipeline on the async client; the script is sent with EVAL (a pipeline of EVALSHA
    would first ask the server whether it knows the script: another round trip).
    Only RQ's public API is used; tests/core/test_async_enqueue.py checks, key by key and
    field by field, that this writes what `Queue.enqueue(..., unique=True)` writes, so a
    new RQ release that writes otherwise fails there first."""

    def __init__(self, dispatcher: Dispatcher, aredis: AsyncRedis) -> None:
        self.dispatcher = dispatcher
        self.aredis = aredis
        self._version: tuple[int, int, int] | None = None

    async def enqueue(
        self,
        function: Callable[..., object],
        *,
        job_id: str,
        queue: str = RUN_QUEUE,
        timeout: float = 600,
        **kwargs: object,
    ) -> bool:
        """Enqueue `function(**kwargs)` once per `job_id`; False if that job already exists."""
        job_id = safe_id(job_id)
        rq_queue = self.dispatcher.queue(queue)
        job = rq_queue.create_job(
            function,
            kwargs=kwargs,
            job_id=job_id,
            timeout=int(timeout),
            result_ttl=RESULT_TTL,
            failure_ttl=FAILURE_TTL,
            description=f"{function.__name__} {job_id}",
            status=JobStatus.QUEUED,
        )
        job.redis_server_version = await self._server_version()  # what RQ sets on enqueue
        job.origin = rq_queue.name
        job.enqueued_at = now()
        ttl = job.ttl if job.ttl is not None else -1
        async with self.aredis.pipeline(transaction=False) as pipe:
            pipe.sadd(rq_queue.redis_queues_keys, rq_queue.key)
            pipe.eval(
                UNIQUE_ENQUEUE_SCRIPT, 2, job.key, rq_queue.key, job.id, "R", ttl, *_fields(job)
            )
            _, created = await pipe.execute()
        if not created:
            log.info("job %s already enqueued; not enqueued again", job_id)
            return False
        return True

    async def _server_version(self) -> tuple[int, int, int]:
        """The server's version, as RQ records it on each job (asked once)."""
        if self._version is None:
            version = str((await self.aredis.info("server"))["redis_version"])
            parts = [int(part) for part in version.split(".")[:3]] + [0, 0, 0]
            self._version = (parts[0], parts[1], parts[2])
        return self._version


def _fields(job: Job) -> list[str | bytes]:
    """The job's hash as field, value pairs: `Job.to_dict()` without its empty values, text
    as text, bytes (the compressed call) as bytes, anything else as `str()`, as RQ's own
    enqueue writes them."""
    pairs: list[str | bytes] = []
    for field, value in job.to_dict().items():
        if value is not None:
            pairs += [field, value if isinstance(value, str | bytes) else str(value)]
    return pairs
