"""The web process's enqueue (one async round trip) writes what RQ's own does, and a
real RQ worker runs what it wrote."""

from __future__ import annotations

import asyncio

from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from bot.core.dispatch import AsyncDispatcher, Dispatcher
from bot.core.redisio import async_client

VOLATILE = {b"created_at", b"enqueued_at", b"description"}  # the time, the job id


def shout(word: str) -> str:
    """A job: what a worker returns is what the test reads back."""
    return word.upper()


def enqueue_async(redis: Redis, job_id: str, **kwargs: str) -> bool:
    async def go() -> bool:
        aredis = async_client(redis)
        try:
            jobs = AsyncDispatcher(Dispatcher(redis), aredis)
            return await jobs.enqueue(shout, job_id=job_id, queue="q", timeout=30, **kwargs)
        finally:
            await aredis.aclose()

    return asyncio.run(go())


def test_a_real_worker_runs_a_job_enqueued_from_the_event_loop(redis: Redis) -> None:
    assert enqueue_async(redis, "shout-1", word="hello")
    assert not enqueue_async(redis, "shout-1", word="again")  # the same job id: a no-op

    queue = Queue("q", connection=redis, serializer=JSONSerializer)
    assert queue.job_ids == ["shout-1"]
    assert redis.sismember("rq:queues", "rq:queue:q")
    job = Job.fetch("shout-1", connection=redis, serializer=JSONSerializer)
    assert job.get_status() is JobStatus.QUEUED and job.origin == "q" and job.timeout == 30

    SimpleWorker([queue], connection=redis, serializer=JSONSerializer).work(
        burst=True, with_scheduler=False, logging_level="WARNING"
    )
    job = Job.fetch("shout-1", connection=redis, serializer=JSONSerializer)
    assert job.get_status() is JobStatus.FINISHED
    assert job.return_value() == "HELLO"


def test_the_job_hash_has_the_fields_rq_itself_writes(redis: Redis) -> None:
    Dispatcher(redis).enqueue(shout, job_id="by-rq", queue="q", timeout=30, word="x")
    enqueue_async(redis, "by-loop", word="x")
    by_rq, by_loop = redis.hgetall("rq:job:by-rq"), redis.hgetall("rq:job:by-loop")
    assert set(by_rq) == set(by_loop)
    assert {k: v for k, v in by_rq.items() if k not in VOLATILE} == {
        k: v for k, v in by_loop.items() if k not in VOLATILE
    }
    assert redis.ttl("rq:job:by-rq") == redis.ttl("rq:job:by-loop")
    assert Queue("q", connection=redis).job_ids == ["by-rq", "by-loop"]


def written(redis: Redis, job_id: str) -> dict[str, tuple[str, bool]]:
    """Every key in the database, with its type and whether it expires (the job id as `ID`)."""
    return {
        key.decode().replace(job_id, "ID"): (redis.type(key).decode(), redis.ttl(key) > 0)
        for key in redis.keys("*")
    }


def test_it_writes_the_keys_rq_itself_writes_and_no_others(redis: Redis) -> None:
    """The enqueue from the event loop copies RQ's unique enqueue with RQ's public parts:
    if a new RQ release writes other keys, this fails before a worker misreads a job."""
    redis.flushdb()
    Dispatcher(redis).enqueue(shout, job_id="by-rq", queue="q", timeout=30, word="x")
    by_rq = written(redis, "by-rq")
    redis.flushdb()
    enqueue_async(redis, "by-loop", word="x")
    assert written(redis, "by-loop") == by_rq, "RQ now enqueues otherwise: see AsyncDispatcher"
    assert set(by_rq) == {"rq:queues", "rq:queue:q", "rq:job:ID"}
