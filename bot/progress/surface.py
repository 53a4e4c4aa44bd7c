"""A sink with its memory: every call is a turn that loads the placements, calls the
sink and saves them, even when the sink failed halfway (what it posted stays known)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic

from redis import Redis
from redis.lock import Lock

from bot.progress.placements import P, Placements, PlacementStore, S
from bot.progress.shared import RedisShared
from bot.progress.sink import ProgressSink, Prompts, Turn
from bot.sessions.events import ProgressEvent
from bot.sessions.session import Session, Thread


class Surface(Generic[P, S]):
    def __init__(
        self,
        redis: Redis,
        session_id: str,
        surface: str,
        sink: ProgressSink[P, S],
        fence: Lock | None = None,
    ) -> None:
        """`fence`: the relay's lock, which every save checks it still holds."""
        self.sink = sink
        self.store = PlacementStore(redis, session_id, surface, sink.placement, sink.fields, fence)
        self.shared = RedisShared(redis)
        self.deferred = False  # the last turn left a final state for a follow-up relay

    def deliver(
        self, session: Session, events: list[ProgressEvent], prompts: Prompts
    ) -> Thread | None:
        return self._turn(session, lambda turn: self.sink.deliver(turn, events, prompts))

    def tick(self, session: Session, now: float) -> Thread | None:
        return self._turn(session, lambda turn: self.sink.tick(turn, now))

    def close(self, session: Session) -> Thread | None:
        return self._turn(session, self.sink.close)

    def _turn(self, session: Session, call: Callable[[Turn[P, S]], None]) -> Thread | None:
        placements = self.store.load()
        turn = Turn(session, placements, self.shared, keep=lambda: self._save(placements))
        try:
            call(turn)
        finally:
            self._save(placements)
            self.deferred = turn.deferred
        return turn.moved

    def _save(self, placements: Placements[P, S]) -> None:
        self.store.save(placements)
