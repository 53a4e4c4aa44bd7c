"""Relaying progress to a surface: every event once, even with two relays on one session."""

from __future__ import annotations

import threading
import time
from collections import Counter

from bot.core import keys
from bot.progress.placements import NoFields
from bot.progress.relay import Relay
from bot.progress.sink import Prompts, Turn
from bot.sessions.events import EventKind, ProgressEvent, ProgressStream
from bot.sessions.session import Person, Thread
from jobs.steps.context import JobContext
from tests.conftest import MakeRepo, wait_until


class RecordingSink:
    """A surface that writes down what it was asked to show."""

    placement = fields = NoFields

    def __init__(self) -> None:
        self.delivered: list[str] = []
        self.lock = threading.Lock()
        self.ticks = 0
        self.closed = 0

    def deliver(
        self, turn: Turn[NoFields, NoFields], events: list[ProgressEvent], prompts: Prompts
    ) -> None:
        with self.lock:
            self.delivered += [e.text for e in events]

    def tick(self, turn: Turn[NoFields, NoFields], now: float) -> None:
        with self.lock:
            self.ticks += 1

    def close(self, turn: Turn[NoFields, NoFields]) -> None:
        with self.lock:
            self.closed += 1


def test_two_relays_on_one_session_deliver_each_event_once(
    ctx: JobContext, make_repo: MakeRepo
) -> None:
    session = ctx.service.run(
        lambda svc: svc.start(
            repo=str(make_repo()),
            base=None,
            prompt=None,
            thread=Thread("cli", "relay"),
            person=Person("u", "U"),
            request_id="relay",
        )
    ).session
    sink = RecordingSink()
    stream = ProgressStream(ctx.redis, session.id)
    with (
        Relay(ctx.settings, ctx.redis, session.id, sink=sink),
        Relay(ctx.settings, ctx.redis, session.id, sink=sink),
    ):
        for n in range(300):
            stream.emit(EventKind.OUTPUT, f"line {n}")
        wait_until(lambda: len(sink.delivered) >= 301, what="the relays to catch up")

    expected = ["initializing"] + [f"line {n}" for n in range(300)]
    assert sink.delivered == expected
    assert not [text for text, count in Counter(sink.delivered).items() if count > 1]


def test_a_quiet_relay_ticks_its_sink_and_closes_it_once(
    ctx: JobContext, make_repo: MakeRepo
) -> None:
    """The relay is the one pacer: held-back edits land while the agent is silent."""
    session = ctx.service.run(
        lambda svc: svc.start(
            repo=str(make_repo()),
            base=None,
            prompt=None,
            thread=Thread("cli", "quiet"),
            person=Person("u", "U"),
            request_id="quiet",
        )
    ).session
    sink = RecordingSink()
    with Relay(ctx.settings, ctx.redis, session.id, sink=sink):
        wait_until(lambda: sink.ticks >= 3, what="the relay to tick a quiet sink")
    assert sink.delivered == ["initializing"] and sink.closed == 1


class SlowSink(RecordingSink):
    """A surface whose delivery chains retries for longer than the relay lock's TTL."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.delivering = threading.Event()

    def deliver(
        self, turn: Turn[NoFields, NoFields], events: list[ProgressEvent], prompts: Prompts
    ) -> None:
        self.delivering.set()
        time.sleep(self.seconds)
        super().deliver(turn, events, prompts)


def test_a_delivery_longer_than_the_lock_ttl_keeps_its_lock(
    ctx: JobContext, make_repo: MakeRepo
) -> None:
    """Must-land retries may outlast one TTL: the relay renews the lock meanwhile, so a
    second relay never delivers the same events alongside."""
    session = ctx.service.run(
        lambda svc: svc.start(
            repo=str(make_repo()),
            base=None,
            prompt=None,
            thread=Thread("cli", "slow"),
            person=Person("u", "U"),
            request_id="slow",
        )
    ).session
    sink = SlowSink(seconds=2.0)
    with Relay(ctx.settings, ctx.redis, session.id, sink=sink, lock_seconds=0.6):
        assert sink.delivering.wait(10)
        lock_key = keys.surface_lock(session.id, "relay")
        for _ in range(6):  # well past the 0.6 s TTL, the lock is still held and renewed
            time.sleep(0.25)
            assert ctx.redis.exists(lock_key) and ctx.redis.pttl(lock_key) > 0
        wait_until(lambda: sink.delivered == ["initializing"], what="the slow delivery")
    assert sink.delivered == ["initializing"] and sink.closed == 1
