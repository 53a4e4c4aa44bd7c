"""The worker process: RQ's worker on our queues, plus a maintenance thread.

The maintenance thread runs the watchdog every few seconds and the idle-session cleanup
every few minutes; a Redis lock lets only one process in the fleet do each pass.
"""

from __future__ import annotations

import logging
import threading

from redis import Redis
from rq import Worker
from rq.serializers import JSONSerializer

from bot import keys
from bot.config import Settings
from bot.dispatch import FAST_QUEUE, RUN_QUEUE, host_queue
from bot.security.sandbox import check_sandbox
from jobs import runtime, session_jobs, watchdog
from jobs.runtime import JobContext

log = logging.getLogger(__name__)

CLEANUP_EVERY = 600.0


class Maintenance(threading.Thread):
    def __init__(self, ctx: JobContext) -> None:
        super().__init__(name="repobox-maintenance", daemon=True)
        self.ctx = ctx
        self.interval = max(1.0, ctx.settings.heartbeat_timeout / 3)
        self.stopping = threading.Event()
        self._next_cleanup = 0.0

    def run(self) -> None:
        import time

        while not self.stopping.wait(self.interval):
            try:
                if self.ctx.redis.set(
                    keys.watchdog_lock(), "1", nx=True, px=int(self.interval * 900)
                ):
                    watchdog.recover_stale_runs(self.ctx)
                if time.monotonic() >= self._next_cleanup:
                    self._next_cleanup = time.monotonic() + CLEANUP_EVERY
                    if self.ctx.redis.set(
                        keys.watchdog_lock() + ":idle", "1", nx=True, ex=int(CLEANUP_EVERY * 0.9)
                    ):
                        session_jobs.archive_idle()
            except Exception:
                log.exception("maintenance pass failed; trying again in %.0fs", self.interval)


def queues_for(settings: Settings) -> list[str]:
    return [host_queue(settings.host), FAST_QUEUE, RUN_QUEUE]


def run_worker(settings: Settings, redis: Redis, *, burst: bool = False) -> None:
    ctx = runtime.install(settings, redis)
    check_sandbox(settings)
    maintenance = Maintenance(ctx)
    maintenance.start()
    worker = Worker(queues_for(settings), connection=redis, serializer=JSONSerializer)
    try:
        worker.work(burst=burst, with_scheduler=False, logging_level="WARNING")
    finally:
        maintenance.stopping.set()
