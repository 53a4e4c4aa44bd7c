"""Relaying progress back to a session's surface while a job works on it.

The job starts a `Relay`; it follows the session's stream from the session's relay cursor
(kept in Redis, so events appended while no job ran are delivered by the next one) and
hands batches to the surface's `ProgressSink`. The relay is the only owner of the four
things every surface needs and none should redo: the cursor, the lock (one redis-py
`Lock` per session, taken for each sink call and extended while the call lasts, so a
call made of several must-land retries never outlives it), the pacing (it calls `tick`
while the stream is quiet, so edits held back by a surface's rate rule still land) and
the surface's memory (its `Placements`, loaded before each call and saved after it,
only while the lock is still held). A side channel never fails the work: sink errors
are logged and the relay goes on.

A session has one home (its thread) and may have other places (the merge request it
shipped, `SessionStore.places`). A prompt asked on a place of another surface (a PR comment
in a Slack session) shows its progress there: that surface gets a relay of its own
(`place`, with its own cursor and lock, `bot.progress.relays` opens it), which delivers only
the prompts asked there, and the home relay leaves them out.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from redis import Redis
from redis.exceptions import LockError, RedisError
from redis.lock import Lock

from bot.core import keys
from bot.core.config import Settings
from bot.core.errors import NotFound
from bot.core.redisio import as_str
from bot.progress.sink import SINK_CALL_BUDGET, ProgressSink, Prompts
from bot.progress.surface import Surface
from bot.sessions.events import EventKind, ProgressEvent, ProgressStream
from bot.sessions.origin import ForgeOrigin
from bot.sessions.prompts import Prompt, PromptQueue
from bot.sessions.session import Session, Thread
from bot.sessions.session_store import SessionStore

log = logging.getLogger(__name__)

# The lock's TTL: longer than one must-land call, and renewed every third of it while a
# sink call lasts (a call may chain several must-land retries), so it never expires under
# a live delivery, and a dead relay's lock frees itself within LOCK_SECONDS.
LOCK_SECONDS = SINK_CALL_BUDGET + 30.0
TICK_EVERY = 0.1  # how often a quiet relay lets the sink land held-back edits


# Builds the sink of a surface by name; None for surfaces with no replies (the CLI). The
# surfaces' registry (`bot.surfaces.registry.sink_for`) is one; the relay, a layer below the
# surfaces, is handed it.
SinkFactory = Callable[[str, Settings], ProgressSink[Any, Any] | None]


class Relay(threading.Thread):
    def __init__(
        self,
        settings: Settings,
        redis: Redis,
        session_id: str,
        sink: ProgressSink[Any, Any] | None = None,
        lock_seconds: float = LOCK_SECONDS,
        *,
        sinks: SinkFactory | None = None,
        place: str | None = None,
        followup: Callable[[str], None] | None = None,
    ) -> None:
        """`sink`, or else the one `sinks` builds for the session's surface (or for `place`,
        another surface the session has a place on); with neither, the relay has nothing to
        deliver to and does not start. `followup(session_id)` enqueues a later relay job,
        called when the surface deferred a final state (pacing) at the close."""
        super().__init__(name=f"relay-{session_id}{':' + place if place else ''}", daemon=True)
        self.redis = redis
        self.session_id = session_id
        self.sessions = SessionStore(redis)
        self.prompts = PromptQueue(redis)
        self.stream = ProgressStream(redis, session_id)
        name = f"relay:{place}" if place else "relay"
        self.cursor_key = keys.surface_state(session_id, name)
        self.lock: Lock = redis.lock(
            keys.surface_lock(session_id, name), timeout=lock_seconds, thread_local=False
        )
        self.home = self.sessions.get(session_id).thread.surface
        self.place = place
        surface = place or self.home
        if sink is None and sinks is not None:
            sink = sinks(surface, settings)
        self.surface = (
            Surface(redis, session_id, surface, sink, fence=self.lock) if sink is not None else None
        )
        self.followup = followup
        self._stopping = threading.Event()
        self._ticked = 0.0

    def __enter__(self) -> Relay:
        if self.surface is not None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.surface is None:
            return
        self._stopping.set()
        self.join(timeout=30)
        while self._pump(block_ms=None, wait=LOCK_SECONDS):  # what arrived after the last read
            pass
        self._locked(lambda: self._bind(self._surface().close(self._session())), wait=LOCK_SECONDS)
        if self._surface().deferred and self.followup is not None:
            log.info(
                "session %s: a final reply waits for Slack's budget in a follow-up job",
                self.session_id,
            )
            self.followup(self.session_id)

    def run(self) -> None:
        while not self._stopping.is_set():
            if not self._pump(block_ms=int(TICK_EVERY * 1000)):
                self._tick()

    def _surface(self) -> Surface[Any, Any]:
        assert self.surface is not None
        return self.surface

    def _session(self) -> Session:
        return self.sessions.get(self.session_id)

    def _pump(self, block_ms: int | None, wait: float = 0.0) -> bool:
        """Deliver one batch; say whether there was one.

        Two jobs can relay one session at once (an archive beside a run). Waiting for events
        holds nothing; delivering holds the session's relay lock and re-reads from the shared
        cursor, so each event reaches the surface once, whichever relay delivers it.
        """
        try:
            if not self.stream.read(self._cursor(), count=1, block_ms=block_ms):
                return False
        except RedisError:
            log.exception("relay of session %s could not reach Redis", self.session_id)
            self._stopping.wait(1)
            return False
        return self._locked(self._deliver, wait=wait)

    def _deliver(self) -> bool:
        cursor = self._cursor()
        events = self.stream.read(cursor)
        if not events:
            return False
        session = self._session()  # read after the events: at least as new as they are
        prompts = self._prompts(events)
        shown = [e for e in events if self._shows(e, prompts)]
        try:
            if shown:
                self._bind(self._surface().deliver(session, shown, self._only_shown(prompts)))
        except Exception:
            log.exception("progress sink of session %s failed; events skipped", self.session_id)
        self.redis.hset(self.cursor_key, "cursor", events[-1].id or cursor)
        self._ticked = time.monotonic()
        return True

    def _prompts(self, events: list[ProgressEvent]) -> Prompts:
        """The prompts these events are about and, when one was queued, the queue ahead."""
        wanted = list(dict.fromkeys(e.prompt_id for e in events if e.prompt_id))
        queue: list[Prompt] = []
        if any(e.kind is EventKind.QUEUED for e in events):
            running = self.prompts.running(self.session_id)
            queue = [*([running] if running else []), *self.prompts.waiting(self.session_id)]
        by_id = {p.id: p for p in queue}
        for prompt_id in wanted:
            if prompt_id not in by_id:
                with contextlib.suppress(NotFound):
                    by_id[prompt_id] = self.prompts.get(prompt_id)
        return Prompts(by_id, tuple(p.id for p in queue))

    def _asked_on(self, prompt: Prompt | None) -> str:
        """The surface a prompt is shown on: where it was asked, when that is a place of
        another surface than the home's; the home otherwise."""
        origin = prompt.origin if prompt is not None else None
        if isinstance(origin, ForgeOrigin) and origin.place_surface:
            return origin.place_surface
        return self.home

    def _shows(self, event: ProgressEvent, prompts: Prompts) -> bool:
        """Whether this relay shows the event: a place's relay, only its prompts' events;
        the home's, the rest (and the session's moves of prompts asked elsewhere)."""
        if event.prompt_id is None:
            return self.place is None
        asked_on = self._asked_on(prompts.get(event.prompt_id))
        if self.place is not None:
            return asked_on == self.place
        return asked_on == self.home or event.kind is EventKind.STATE

    def _only_shown(self, prompts: Prompts) -> Prompts:
        surface = self.place or self.home
        kept = {k: p for k, p in prompts.by_id.items() if self._asked_on(p) == surface}
        return Prompts(kept, tuple(p for p in prompts.queue if p in kept))

    def _tick(self) -> None:
        if time.monotonic() - self._ticked < TICK_EVERY:
            return
        self._ticked = time.monotonic()
        self._locked(lambda: self._bind(self._surface().tick(self._session(), time.time())))

    def _bind(self, moved: Thread | None) -> None:
        """The domain change a surface asked for: the session lives in this thread now."""
        if moved is not None and not self.sessions.bind_thread(self.session_id, moved):
            log.warning("session %s could not move to thread %s", self.session_id, moved.key)

    def _locked(self, work: Callable[[], bool | None], wait: float = 0.0) -> bool:
        """Run `work` under the session's relay lock; False when another relay holds it."""
        try:
            if not self.lock.acquire(blocking=wait > 0, blocking_timeout=wait or None):
                self._stopping.wait(0.05)  # the other relay is delivering these
                return False
            held = _KeepAlive(self.lock, self.session_id)
            held.start()
            try:
                return bool(work())
            except RedisError:
                raise
            except Exception:
                log.exception("progress sink of session %s failed", self.session_id)
                return False
            finally:
                held.stop()
                self._release()
        except RedisError:
            log.exception("relay of session %s could not reach Redis", self.session_id)
            self._stopping.wait(1)
            return False

    def _release(self) -> None:
        try:
            self.lock.release()
        except LockError:  # it expired and someone else took it: theirs now
            log.warning("relay lock of session %s expired while held", self.session_id)

    def _cursor(self) -> str:
        return as_str(self.redis.hget(self.cursor_key, "cursor") or b"0")


class _KeepAlive(threading.Thread):
    """Renews a held lock's TTL every third of it until stopped: a sink call may take
    several must-land retries in a row, and its lock must outlive all of them."""

    def __init__(self, lock: Lock, session_id: str) -> None:
        super().__init__(name=f"relay-lock-{session_id}", daemon=True)
        self.lock = lock
        self.session_id = session_id
        self._done = threading.Event()

    def run(self) -> None:
        every = float(self.lock.timeout or LOCK_SECONDS) / 3
        while not self._done.wait(every):
            try:
                self.lock.reacquire()  # the TTL back to its full length, if still ours
            except LockError:
                log.warning("relay lock of session %s was lost while held", self.session_id)
                return
            except RedisError:
                log.warning("relay lock of session %s could not be renewed", self.session_id)

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=5)
