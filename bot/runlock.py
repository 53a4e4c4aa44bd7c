"""One run at a time per session, with a heartbeat of our own and a cancel channel.

The lock is a Redis key with a short TTL that the running job keeps renewing. If the
worker dies, the key expires within `heartbeat_timeout`, and the watchdog fails the run
with a clear message long before RQ's own maintenance (every ten minutes) would notice.
The heartbeat thread blocks on the session's cancel list between beats, so a cancel
reaches the agent at once without polling.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable

from redis import Redis
from redis.exceptions import RedisError

from bot import keys
from bot.redisio import as_str

log = logging.getLogger(__name__)

# Renew or release only while we still own the lock. KEYS[1]: lock. ARGV: token, ttl ms.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
RELEASE_IF_OWNER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class SessionLock:
    def __init__(self, redis: Redis, session_id: str, *, timeout: float) -> None:
        self.redis = redis
        self.session_id = session_id
        self.key = keys.run_lock(session_id)
        self.ttl_ms = int(timeout * 1000)
        self.token = secrets.token_hex(8)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(RELEASE_IF_OWNER)

    def acquire(self) -> bool:
        return bool(self.redis.set(self.key, self.token, nx=True, px=self.ttl_ms))

    def renew(self) -> bool:
        return bool(self._renew(keys=[self.key], args=[self.token, self.ttl_ms]))

    def release(self) -> None:
        self._release(keys=[self.key], args=[self.token])


class Heartbeat(threading.Thread):
    """Renews the lock every `interval` and turns cancel requests into `on_cancel(reason)`."""

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
        self._stopping = threading.Event()

    def watch(self, prompt_id: str | None) -> None:
        """Which prompt a cancel must name to count (stale cancels for older ones are ignored)."""
        self.prompt_id = prompt_id

    def stop(self) -> None:
        self._stopping.set()
        try:  # wake the blocking pop at once
            self.lock.redis.rpush(keys.cancel(self.lock.session_id), "__heartbeat_stop__")
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
                    if target in ("*", self.prompt_id):
                        self.on_cancel("cancelled")
                if not self.lock.renew():
                    log.error("lost the run lock of session %s", self.lock.session_id)
                    self.on_cancel("lost its heartbeat")
            except RedisError:
                log.exception("heartbeat of session %s could not reach Redis", self.lock.session_id)
                self._stopping.wait(self.interval)
        try:
            self.lock.redis.lrem(cancel_key, 0, "__heartbeat_stop__")
        except RedisError:
            pass
