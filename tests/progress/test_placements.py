"""What the relay keeps for a surface: where each prompt is shown, saved only while the
relay holds the session's lock, written only where it changed, kept when a sink fails."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import pytest
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from bot.core import keys
from bot.progress.placements import NoFields, PlacementStore
from bot.progress.shared import RedisShared
from bot.progress.sink import Prompts, Turn
from bot.progress.surface import Surface
from bot.sessions.events import ProgressEvent
from bot.sessions.session import Person, Session, Thread
from bot.surfaces.slack.messages import PromptMessage, SlackFields


@dataclass
class Posted:
    """A placement: the message a prompt's view was posted as."""

    ts: str

    def to_dict(self) -> dict[str, Any]:
        return {"ts": self.ts}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Posted:
        return cls(str(data["ts"]))


SESSION = Session("s1", "r", "gitlab", "acme/widgets", "main", "w", Thread("cli", "t"),
                  Person("u", "U"))  # fmt: skip


def store(redis: Redis, **fence: Any) -> PlacementStore[Posted, NoFields]:
    return PlacementStore(redis, SESSION.id, "slack", Posted, NoFields, **fence)


def test_placements_come_back_in_the_order_the_prompts_appeared(redis: Redis) -> None:
    first = store(redis)
    placements = first.load()
    for prompt_id in ("p3", "p1", "p2"):
        placements.prompts[prompt_id] = Posted(f"ts-{prompt_id}")
    assert first.save(placements)
    again = store(redis).load()
    assert list(again.prompts) == ["p3", "p1", "p2"] and again.prompts["p1"] == Posted("ts-p1")
    assert redis.ttl(keys.surface_state(SESSION.id, "slack")) > 0  # retention's key, expiring


def test_only_what_changed_is_written(redis: Redis) -> None:
    mine = store(redis)
    placements = mine.load()
    placements.prompts.update(a=Posted("1"), b=Posted("2"))
    mine.save(placements)
    key = keys.surface_state(SESSION.id, "slack")
    redis.hset(key, "prompt:b", '{"ts": "from another relay"}')
    placements.prompts["a"].ts = "1b"
    mine.save(placements)
    assert store(redis).load().prompts == {"a": Posted("1b"), "b": Posted("from another relay")}


def test_a_relay_that_lost_its_lock_saves_nothing(redis: Redis) -> None:
    lock = redis.lock(keys.surface_lock(SESSION.id, "relay"), timeout=0.2, thread_local=False)
    assert lock.acquire(blocking=False)
    late = store(redis, fence=lock)
    placements = late.load()
    placements.prompts["p1"] = Posted("1")
    assert late.save(placements)  # held: saved
    time.sleep(0.3)  # the lock expires under it, and the next relay takes it
    other = redis.lock(keys.surface_lock(SESSION.id, "relay"), timeout=5, thread_local=False)
    assert other.acquire(blocking=False)
    placements.prompts["p1"] = Posted("stale")
    assert not late.save(placements)
    assert store(redis).load().prompts == {"p1": Posted("1")}


class FailingSink:
    """Posts a message, then fails before the end of its turn."""

    placement, fields = Posted, NoFields

    def deliver(
        self, turn: Turn[Posted, NoFields], events: list[ProgressEvent], prompts: Prompts
    ) -> None:
        turn.placements.prompts.setdefault("p1", Posted("1.000"))
        raise RuntimeError("the surface broke halfway")

    def tick(self, turn: Turn[Posted, NoFields], now: float) -> None:
        pass

    def close(self, turn: Turn[Posted, NoFields]) -> None:
        pass


def test_what_a_failing_sink_posted_stays_known(redis: Redis) -> None:
    surface = Surface(redis, SESSION.id, "slack", FailingSink())
    with pytest.raises(RuntimeError):
        surface.deliver(SESSION, [], Prompts())
    assert store(redis).load().prompts == {"p1": Posted("1.000")}  # never posted twice


def test_shared_memory_without_redis_reads_as_absent() -> None:
    no_retry = Retry(NoBackoff(), 0)  # redis-py's default retries 3 times with back-off
    gone = RedisShared(Redis(port=1, socket_connect_timeout=0.2, retry=no_retry))
    assert gone.get("k") is None and gone.count("k", 10) == 0
    gone.put("k", "v", 10)  # logged, never raised
    gone.drop("k")


def test_slack_state_saved_before_placements_still_loads(redis: Redis) -> None:
    """A session in flight across the upgrade keeps its card: no second one is posted."""
    key = keys.surface_state(SESSION.id, "slack")
    card = {"ts": "1.000100", "dirty": False, "last_edit": 5.0}
    redis.hset(key, mapping={"delivered": "17-0", "card": json.dumps(card), "notices": '["n"]'})
    fields = PlacementStore(redis, SESSION.id, "slack", PromptMessage, SlackFields).load().fields
    assert (fields.delivered, fields.card.ts, fields.notices) == ("17-0", "1.000100", ["n"])
