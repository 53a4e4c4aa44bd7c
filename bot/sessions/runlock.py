"""One run at a time per session: a lease with a fencing token, a heartbeat, a cancel channel.

The lock is a Redis key with a short TTL that the running job keeps renewing. If the
worker dies, the key expires within `heartbeat_timeout`, and the watchdog fails the run
with a clear message long before RQ's own maintenance (every ten minutes) would notice.

Every acquisition (and every takeover by the watchdog) increments the session's lease
counter; the holder's token is the value it got. Writes that settle a run (the checkpoint
commit, the outcome) check that the counter still equals the token, so a run whose lease
was taken over changes nothing. A lock that merely expired while Redis was unreachable
(an outage, a restart) is taken back by its holder when nobody took over meanwhile.

The heartbeat thread blocks on the session's cancel list between beats, so a cancel
reaches the agent at once without polling.

A worker process names itself the owner of the leases taken in it and in its work horses
(`set_owner`); each lease it holds is listed under that name (`keys.worker_leases`), so the
supervisor that sees the worker die hands its runs on at once instead of waiting for the
lock to expire.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from redis import Redis
from redis.exceptions import RedisError

from bot.core import keys
from bot.core.redisio import as_str
from bot.sessions import scripts

log = logging.getLogger(__name__)

SHUTDOWN = "__shutdown__"  # pushed on the cancel list: the host is stopping, hand the run back
_WAKE = "__heartbeat_stop__"
OWNED_FOR = 86400  # seconds a lease record outlives a worker nobody cleaned up after
_owner: str | None = None


def set_owner(owner: str | None) -> None:
    """Name this process's leases (and its forked work horses') after `owner`, host:pid."""
    global _owner  # noqa: PLW0603 - one owner per worker process, inherited by its horses
    _owner = owner


def owned(redis: Redis, owner: str) -> dict[str, str]:
    """The leases `owner` holds: session id → token."""
    held = redis.hgetall(keys.worker_leases(owner))
    return {as_str(session): as_str(token) for session, token in held.items()}


def lease_held(redis: Redis, session_id: str, token: str) -> bool:
    """Whether nobody took the session's lease over from `token`'s holder (a read, so it
    works while Redis refuses writes): what a run checks before each write that settles it."""
    current = redis.get(keys.lease(session_id))
    return current is not None and as_str(current) == token


class SessionLock:
    def __init__(self, redis: Redis, session_id: str, *, timeout: float) -> None:
        self.redis = redis
        self.session_id = session_id
        self.key = keys.run_lock(session_id)
        self.lease_key = keys.lease(session_id)
        self.ttl_ms = int(timeout * 1000)
        self.token = ""
        self._acquire = redis.register_script(scripts.ACQUIRE)
        self._renew = redis.register_script(scripts.RENEW)
        self._release = redis.register_script(scripts.RELEASE_IF_OWNER)

    def acquire(self) -> bool:
        token = self._acquire(keys=[self.key, self.lease_key], args=[self.ttl_ms])
        if not token:
            return False
        self.token = as_str(token)
        if _owner is not None:
            try:
                pipe = self.redis.pipeline()
                pipe.hset(keys.worker_leases(_owner), self.session_id, self.token)
                pipe.expire(keys.worker_leases(_owner), OWNED_FOR)
                pipe.execute()
            except RedisError:  # then a dead worker's run is found when its lock expires
                log.warning("could not record the lease of session %s", self.session_id)
        return True

    def renew(self) -> bool:
        return bool(self._renew(keys=[self.key, self.lease_key], args=[self.token, self.ttl_ms]))

    def held(self) -> bool:
        return lease_held(self.redis, self.session_id, self.token)

    def release(self) -> None:
        self._release(keys=[self.key], args=[self.token])
        if _owner is not None:
            self.redis.hdel(keys.worker_leases(_owner), self.session_id)


class Heartbeat(threading.Thread):
    """Renews the lock every `interval` and turns cancel requests into `on_cancel(reason)`.

    Reasons: "cancelled" (a person), "shutdown" (the host is stopping), "lost its heartbeat"
    (another process took the lease over).
    """

    def __init__(
        self,
        lock: SessionLock,
        interval: float,
        on_cancel: Callable[[str], None],
    ) -> None:
        super().__init__(name=f"heartbeat-{lock.session_id}", daemon=True)
        self.lock = lock
        self.interval = max(0.2, interval)
        self.on_cancel = on_cancel
        self.prompt_id: str | None = None
        self.lost = threading.Event()
        self._stopping = threading.Event()

    def watch(self, prompt_id: str | None) -> None:
        """Which prompt a cancel must name to count (stale cancels for older ones are ignored)."""
        self.prompt_id = prompt_id

    def stop(self) -> None:
        self._stopping.set()
        try:  # wake the blocking pop at once
            self.lock.redis.rpush(keys.cancel(self.lock.session_id), _WAKE)
        except RedisError:
            pass
        self.join(timeout=5)

    def run(self) -> None:
        cancel_key = keys.cancel(self.lock.session_id)
        while not self._stopping.is_set():
            try:
                popped = self.lock.redis.blpop([cancel_key], timeout=self.interval)
                if self._stopping.is_set():
                    break
                if popped is not None:
                    target = as_str(popped[1])
                    if target == SHUTDOWN:
                        self.on_cancel("shutdown")
                    elif target in ("*", self.prompt_id):
                        self.on_cancel("cancelled")
                if not self.lock.renew():
                    log.error("lost the run lease of session %s", self.lock.session_id)
                    self.lost.set()
                    self.on_cancel("lost its heartbeat")
            except RedisError:
                log.warning("heartbeat of session %s cannot reach Redis", self.lock.session_id)
                self._stopping.wait(self.interval)
        try:
            self.lock.redis.lrem(cancel_key, 0, _WAKE)
        except RedisError:
            pass
