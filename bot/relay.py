"""Relaying progress back to a session's surface while a job works on it.

The job starts a `Relay`; it follows the session's stream from the surface's own cursor
(kept in Redis, so events appended while no job ran are delivered by the next one) and
hands batches to the surface's `ProgressSink`. The sink coalesces (Slack edits at most once
a second, GitLab/GitHub edit one comment). A side channel never fails the work: sink
errors are logged and the relay goes on.
"""

from __future__ import annotations

import importlib
import logging
import secrets
import threading
from typing import Protocol

from redis import Redis
from redis.exceptions import RedisError

from bot import keys
from bot.config import Settings
from bot.progress import ProgressEvent, ProgressStream
from bot.redisio import as_str
from bot.runlock import RELEASE_IF_OWNER
from bot.sessions import Session, SessionStore

log = logging.getLogger(__name__)

RELAY_LOCK_MS = 60_000  # longer than any one delivery; a dead relay's lock just expires

# Surface name -> "module:factory"; a factory takes (settings, redis) and returns a sink.
SINKS: dict[str, str] = {
    "slack": "bot.surfaces.slack:build_sink",
    "gitlab": "bot.surfaces.gitlab:build_sink",
    "github": "bot.surfaces.github:build_sink",
}


class ProgressSink(Protocol):
    def deliver(self, session: Session, events: list[ProgressEvent]) -> None:
        """Show these events on the surface (they arrive in order, each once)."""
        ...

    def close(self, session: Session) -> None:
        """Make sure the final state of every message has landed."""
        ...


def sink_for(surface: str, settings: Settings, redis: Redis) -> ProgressSink | None:
    target = SINKS.get(surface)
    if target is None:
        return None
    module_name, factory = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        return None
    sink: ProgressSink | None = getattr(module, factory)(settings, redis)
    return sink


class Relay(threading.Thread):
    def __init__(
        self,
        settings: Settings,
        redis: Redis,
        session_id: str,
        sink: ProgressSink | None = None,
    ) -> None:
        """`sink` defaults to the one registered for the session's surface."""
        super().__init__(name=f"relay-{session_id}", daemon=True)
        self.redis = redis
        self.session_id = session_id
        self.sessions = SessionStore(redis)
        self.stream = ProgressStream(redis, session_id)
        self.cursor_key = keys.surface_state(session_id, "relay")
        self.lock_key = keys.surface_lock(session_id, "relay")
        self.token = secrets.token_hex(8)
        self._release = redis.register_script(RELEASE_IF_OWNER)
        surface = self.sessions.get(session_id).thread.surface
        self.sink = sink if sink is not None else sink_for(surface, settings, redis)
        self._stopping = threading.Event()

    def __enter__(self) -> Relay:
        if self.sink is not None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.sink is None:
            return
        self._stopping.set()
        self.join(timeout=30)
        while self._pump(block_ms=None):  # whatever arrived after the last read
            pass
        try:
            self.sink.close(self.sessions.get(self.session_id))
        except Exception:
            log.exception("progress sink of session %s failed to close", self.session_id)

    def run(self) -> None:
        while not self._stopping.is_set():
            self._pump(block_ms=250)

    def _pump(self, block_ms: int | None) -> bool:
        """Deliver one batch; say whether there was one.

        Two jobs can relay one session at once (an archive beside a run). Waiting for events
        holds nothing; delivering holds the session's relay lock and re-reads from the shared
        cursor, so each event reaches the surface once, whichever relay delivers it.
        """
        assert self.sink is not None
        try:
            if not self.stream.read(self._cursor(), count=1, block_ms=block_ms):
                return False
            if not self.redis.set(self.lock_key, self.token, nx=True, px=RELAY_LOCK_MS):
                self._stopping.wait(0.05)  # the other relay is delivering these
                return False
            try:
                cursor = self._cursor()
                events = self.stream.read(cursor)
                if not events:
                    return False
                try:
                    self.sink.deliver(self.sessions.get(self.session_id), events)
                except Exception:
                    log.exception(
                        "progress sink of session %s failed; events skipped", self.session_id
                    )
                self.redis.hset(self.cursor_key, "cursor", events[-1].id or cursor)
                return True
            finally:
                self._release(keys=[self.lock_key], args=[self.token])
        except RedisError:
            log.exception("relay of session %s could not reach Redis", self.session_id)
            self._stopping.wait(1)
            return False

    def _cursor(self) -> str:
        return as_str(self.redis.hget(self.cursor_key, "cursor") or b"0")
