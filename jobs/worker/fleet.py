"""What `python app.py`'s supervisor asks about its workers' runs, through Redis.

Each worker process lists the run leases it and its work horses hold under its own name
(`bot.sessions.runlock.set_owner`). So the supervisor can say how many runs a stop waits
for, hand them back at once when the person presses Ctrl-C a second time, and, the moment
a worker dies, hand that worker's runs on exactly as the watchdog would once their locks
expired: the person hears "stopped unexpectedly" within a second or two instead of after
the heartbeat timeout, and the prompt does not run again.
"""

from __future__ import annotations

import os

from redis import Redis

from bot.core import keys
from bot.core.config import Settings
from bot.sessions.recovery import Recovery
from bot.sessions.runlock import SHUTDOWN, owned, set_owner
from jobs.steps.context import JobContext
from jobs.worker import runtime, watchdog

CANCEL_TTL = 300  # seconds a hand-back request waits for its run (as a person's cancel)


def owner_of(host: str, pid: int) -> str:
    return f"{host}:{pid}"


def claim_for_this_worker(settings: Settings, redis: Redis) -> None:
    """Called by a worker process before it takes jobs: its leases are listed under its
    name, and whatever an earlier process of the same pid left there is dropped."""
    owner = owner_of(settings.host, os.getpid())
    redis.delete(keys.worker_leases(owner))
    set_owner(owner)


class Fleet:
    """The supervisor's view of the runs its workers (by pid) hold."""

    def __init__(self, settings: Settings, redis: Redis) -> None:
        self.settings = settings
        self.redis = redis
        self._ctx: JobContext | None = None

    def _leases(self, worker: int) -> dict[str, str]:
        return owned(self.redis, owner_of(self.settings.host, worker))

    def runs(self, workers: list[int]) -> int:
        """How many runs the workers hold now."""
        return sum(len(self._leases(worker)) for worker in workers)

    def hand_back_now(self, workers: list[int]) -> int:
        """Ask every run the workers hold to stop and go back to the head of its queue (the
        grace is over); returns how many were asked."""
        asked = 0
        for worker in workers:
            for session_id in self._leases(worker):
                pipe = self.redis.pipeline()
                pipe.rpush(keys.cancel(session_id), SHUTDOWN)
                pipe.expire(keys.cancel(session_id), CANCEL_TTL)
                pipe.execute()
                asked += 1
        return asked

    def worker_died(self, worker: int) -> list[str]:
        """Take over the leases the dead worker held, fail their runs with the watchdog's
        message, and move their queues on; returns the prompt ids failed."""
        owner = owner_of(self.settings.host, worker)
        held = owned(self.redis, owner)
        if not held:
            return []
        ctx = self._context()
        recovery = Recovery(self.redis)
        uptime = watchdog.redis_uptime(ctx)
        failed: list[str] = []
        for session_id, token in held.items():
            claimed = recovery.claim(session_id, dead_token=token)
            prompt_id = watchdog.settle_claim(ctx, session_id, claimed, uptime)
            if prompt_id is not None:
                failed.append(prompt_id)
        self.redis.delete(keys.worker_leases(owner))
        return failed

    def _context(self) -> JobContext:
        if self._ctx is None:
            self._ctx = runtime.build(self.settings, self.redis)
        return self._ctx
