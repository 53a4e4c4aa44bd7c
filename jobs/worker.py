"""The worker process: RQ's worker on our queues, plus a host heartbeat and a maintenance thread.

The maintenance thread runs the watchdog (dead runs, lost hosts) every few seconds, and the
idle-session archiving and retention every half minute at most; a Redis lock lets only one
process in the fleet do each pass. The disk pass is per host, since each host has its disk.

Queues are served round-robin: after a job from one queue, the worker looks at the next
queue first, so a burst of comment jobs on the fast queue cannot hold back session set-up
and runs (with RQ's default order the fast queue would always be served first).
"""

from __future__ import annotations

import logging
import threading
import time

from redis import Redis
from rq import Worker
from rq.serializers import JSONSerializer
from rq.worker import DequeueStrategy

from bot import keys, retention
from bot.config import Settings
from bot.dispatch import FAST_QUEUE, RUN_QUEUE, host_queue
from bot.security.sandbox import check_sandbox
from jobs import disk_space, hosts, runtime, session_jobs, watchdog
from jobs.runtime import JobContext

log = logging.getLogger(__name__)

CLEANUP_EVERY = 30.0  # idle archiving lands within a minute of its deadline


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
        while not self.stopping.wait(self.interval):
            try:
                self.pass_once()
            except Exception:
                log.exception("maintenance pass failed; trying again in %.0fs", self.interval)

    def pass_once(self) -> None:
        redis = self.ctx.redis
        if redis.set(keys.watchdog_lock(), "1", nx=True, px=int(self.interval * 900)):
            hosts.fail_runs_on_lost_hosts(self.ctx)  # before the watchdog: names the cause
            watchdog.recover_stale_runs(self.ctx)
            hosts.move_sessions_from_lost_hosts(self.ctx)
        if time.monotonic() < self._next_cleanup:
            return
        self._next_cleanup = time.monotonic() + self.cleanup_every
        lock_ms = int(self.cleanup_every * 900)
        if redis.set(keys.watchdog_lock() + ":idle", "1", nx=True, px=lock_ms):
            session_jobs.archive_idle()
            retention.purge_expired(redis, self.ctx.settings.retention_seconds)
        host_lock = f"{keys.watchdog_lock()}:disk:{self.ctx.settings.host}"
        if disk_space.short_of_space(self.ctx) and redis.set(host_lock, "1", nx=True, px=lock_ms):
            disk_space.reclaim(self.ctx)


def queues_for(settings: Settings) -> list[str]:
    return [host_queue(settings.host), FAST_QUEUE, RUN_QUEUE]


def run_worker(settings: Settings, redis: Redis, *, burst: bool = False) -> None:
    ctx = runtime.install(settings, redis)
    check_sandbox(settings)
    beat = hosts.HostBeat(ctx)
    beat.start()
    maintenance = Maintenance(ctx)
    maintenance.start()
    worker = Worker(queues_for(settings), connection=redis, serializer=JSONSerializer)
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
