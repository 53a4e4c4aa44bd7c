"""The worker process: RQ's worker on our queues, plus a host heartbeat and a maintenance thread.

The maintenance thread runs the watchdog (dead runs, lost hosts) every few seconds, and the
idle-session archiving and retention every half minute at most; a Redis lock lets only one
process in the fleet do each pass. The disk pass is per host, since each host has its disk.

Queues are served round-robin: after a job from one queue, the worker looks at the next
queue first, so a burst of comment jobs on the fast queue cannot hold back session set-up
and runs (with RQ's default order the fast queue would always be served first).

Stopping (SIGTERM/SIGINT): RQ's warm shutdown takes no new job. Ours adds that the running
drain takes no further prompt, and that a run still going after the grace period is told
to stop and hand its prompt back to the head of the queue; a work horse that still has not
ended after that is killed. A work horse dies with its worker (even one killed by SIGKILL),
and the agent with its horse, so no run outlives the process that owns it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError
from rq import Worker
from rq.job import Job
from rq.serializers import JSONSerializer
from rq.worker import DequeueStrategy

from bot.core import health, keys
from bot.core.config import Settings
from bot.core.dispatch import FAST_QUEUE, RUN_QUEUE, host_queue
from bot.core.redisio import blocking_limit
from bot.core.supervisor import STOP_MARGIN, die_with_parent
from bot.security.sandbox import check_sandbox
from bot.sessions import retention
from bot.sessions.runlock import SHUTDOWN
from jobs import session_jobs
from jobs.steps.context import JobContext
from jobs.worker import disk_space, runtime, watchdog
from jobs.worker import lost_hosts as hosts
from jobs.worker.fleet import claim_for_this_worker

log = logging.getLogger(__name__)

CLEANUP_EVERY = 30.0  # idle archiving lands within a minute of its deadline
RQ_WAIT_BELOW_TTL = 15  # rq.Worker.dequeue_timeout: the worker TTL less this


class Maintenance(threading.Thread):
    def __init__(self, ctx: JobContext) -> None:
        super().__init__(name="repobox-maintenance", daemon=True)
        self.ctx = ctx
        self.interval = max(1.0, ctx.settings.heartbeat_timeout / 3)
        # Short idle times (tests, demos) get checked as often as the watchdog runs.
        self.cleanup_every = max(
            self.interval, min(CLEANUP_EVERY, ctx.settings.idle_archive_after / 4)
        )
        self.stopping = threading.Event()
        self._next_cleanup = 0.0

    def run(self) -> None:
        while True:
            try:
                self.pass_once()
            except Exception:
                log.exception("maintenance pass failed; trying again in %.0fs", self.interval)
            if self.stopping.wait(self.interval):
                return

    def pass_once(self) -> None:
        redis = self.ctx.redis
        if redis.set(keys.watchdog_lock(), "1", nx=True, px=int(self.interval * 900)):
            watchdog.recover_stale_runs(self.ctx)
            watchdog.reconcile(self.ctx)
            hosts.move_sessions_from_lost_hosts(self.ctx)
        if time.monotonic() < self._next_cleanup:
            return
        self._next_cleanup = time.monotonic() + self.cleanup_every
        lock_ms = int(self.cleanup_every * 900)
        if redis.set(keys.idle_sweep_lock(), "1", nx=True, px=lock_ms):
            session_jobs.archive_idle()
            retention.purge_expired(redis, self.ctx.settings.retention_seconds)
        host_lock = keys.disk_reclaim_lock(self.ctx.settings.host)
        if disk_space.short_of_space(self.ctx) and redis.set(host_lock, "1", nx=True, px=lock_ms):
            disk_space.reclaim(self.ctx)


class RepoboxWorker(Worker):
    """RQ's forking worker, with a shutdown that hands runs back and horses that die with it."""

    grace = 30.0

    def setup_work_horse_signals(self) -> None:
        super().setup_work_horse_signals()  # type: ignore[no-untyped-call]
        die_with_parent()
        if os.getppid() != self.pid:  # the worker died before the line above took effect
            os._exit(1)

    def heartbeat(self, timeout: int | None = None, pipeline: object = None) -> None:
        """RQ's own heartbeat, which a Redis refusing writes (disk full, maxmemory) must not
        turn into a dead worker: the next beat lands once writes come back."""
        try:
            super().heartbeat(timeout, pipeline=pipeline)  # type: ignore[arg-type]
        except RedisError as error:
            if not health.refuses_writes(error):
                raise
            log.warning("worker heartbeat refused by Redis (%s); trying again later", error)

    def maintain_heartbeats(self, job: Job, execution: object) -> None:
        try:
            super().maintain_heartbeats(job, execution)  # type: ignore[arg-type]
        except RedisError as error:
            if not health.refuses_writes(error):
                raise
            log.warning("job heartbeat refused by Redis (%s); trying again later", error)

    def handle_warm_shutdown_request(self) -> None:
        super().handle_warm_shutdown_request()  # type: ignore[no-untyped-call]
        job = self.get_current_job()
        if job is None:
            return
        with contextlib.suppress(RedisError):
            self.connection.set(keys.job_stop(job.id), "1", ex=int(self.grace + 600))
        threading.Thread(
            target=self._stop_after_grace, args=(job, self.horse_pid), daemon=True
        ).start()

    def _stop_after_grace(self, job: Job, horse: int) -> None:
        """Let the run finish within the grace; then hand it back; then kill the horse."""
        if _wait_gone(horse, self.grace):
            return
        session_id = (job.kwargs or {}).get("session_id")
        if (job.func_name or "").endswith("drain_session") and session_id:
            log.warning(
                "run of session %s still going after %.0fs: handing it back", session_id, self.grace
            )
            with contextlib.suppress(RedisError):
                self.connection.rpush(keys.cancel(str(session_id)), SHUTDOWN)
        if not _wait_gone(horse, STOP_MARGIN - 5):
            log.warning("job %s did not stop; killing its work horse", job.id)
            self.kill_horse()


def _wait_gone(pid: int, seconds: float) -> bool:
    """Wait up to `seconds` for `pid` to end (a zombie counts as ended)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.1)
    return False


def worker_ttl(redis: Redis) -> int:
    """RQ's worker TTL, chosen for the wait for jobs it implies.

    RQ waits for a job in one blocking call of the TTL less 15 s (405 s by default). On a
    socket that times out sooner, the wait ends in a timeout error, after which RQ backs off
    for up to a minute, taking no job. RQ raises the socket timeout to fit, but only for
    connections opened after the worker is built (the maintenance threads' are older). So
    the wait is kept to `blocking_limit`, inside the timeout every connection has.
    """
    return blocking_limit(redis) + RQ_WAIT_BELOW_TTL


def queues_for(settings: Settings) -> list[str]:
    return [host_queue(settings.host), FAST_QUEUE, RUN_QUEUE]


def run_worker(settings: Settings, redis: Redis, *, burst: bool = False) -> None:
    ctx = runtime.install(settings, redis)
    claim_for_this_worker(settings, redis)
    check_sandbox(settings)
    beat = hosts.HostBeat(ctx)
    beat.start()
    maintenance = Maintenance(ctx)
    maintenance.start()
    worker = RepoboxWorker(
        queues_for(settings),
        connection=redis,
        serializer=JSONSerializer,
        worker_ttl=worker_ttl(redis),
    )
    worker.grace = settings.shutdown_grace
    try:
        worker.work(
            burst=burst,
            with_scheduler=False,
            logging_level="WARNING",
            dequeue_strategy=DequeueStrategy.ROUND_ROBIN,
        )
    finally:
        maintenance.stopping.set()
        beat.stopping.set()
