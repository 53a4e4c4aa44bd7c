"""Typed values stored in Redis: they round-trip, and what older versions stored still loads."""

from __future__ import annotations

import json

from redis import Redis

from bot.core import keys
from bot.forges.forge import ReplyTarget
from bot.sessions.merge_request import MergeRequestRef
from bot.sessions.origin import (
    CliOrigin,
    ForgeComment,
    ForgeOrigin,
    ReviewSpot,
    SlackOrigin,
    WebOrigin,
    origin_from_dict,
)
from bot.sessions.prompts import Action, PromptQueue
from bot.sessions.quote import Quote
from bot.sessions.session import Person, Session, Thread
from bot.sessions.session_store import SessionStore
from bot.sessions.thread_context import ThreadContext
from tests.conftest import queued

ALICE = Person("alice", "Alice")


def test_origins_round_trip_tagged() -> None:
    reply = ReplyTarget("acme/app", "merge_request", 4, discussion_id="d1")
    review = ReviewSpot("a.py", 3, "@@ -1 +1 @@", (Quote("bob", "hm"),))
    for origin in (
        SlackOrigin("C1", "1.2", "U1"),
        ForgeOrigin(ForgeComment("bob", "@repobox go", "http://x/1", 7), reply, review),
        CliOrigin("me"),
        WebOrigin("alice"),
    ):
        stored = json.loads(json.dumps(origin.to_dict()))
        assert stored["surface"] == origin.surface
        assert origin_from_dict(stored) == origin


def test_forge_origin_stored_before_the_tag_still_loads() -> None:
    old = {
        "comment": {"author": "bob", "body": "go", "url": "u", "id": 5},
        "reply": {"project": "a/b", "kind": "issue", "number": 1},
    }
    origin = origin_from_dict(old)
    assert isinstance(origin, ForgeOrigin)
    assert origin.reply == ReplyTarget("a/b", "issue", 1) and origin.comment.author == "bob"
    assert origin_from_dict({}) is None and origin_from_dict(None) is None


def test_a_session_stored_with_untyped_context_loads_typed(redis: Redis) -> None:
    session = Session("s9", "r", "gitlab", "a/b", "main", "w", Thread("gitlab", "k"), ALICE)
    store = SessionStore(redis)
    store.create(session)
    old_context = {
        "kind": "issue",
        "title": "T",
        "body": "B",
        "url": "u",
        "number": 3,
        "comments": [{"author": "bob", "body": "x"}],
        "closes": "#3",
        "instructions": {"AGENTS.md": "rules"},
    }
    redis.hset(
        keys.session("s9"),
        mapping={"context": json.dumps(old_context), "merge_request": json.dumps({"url": "m"})},
    )
    loaded = store.get("s9")
    assert loaded.context == ThreadContext(
        "issue", 3, "T", "B", "u", (Quote("bob", "x"),), closes="#3"
    )
    assert loaded.instructions == {"AGENTS.md": "rules"}
    assert loaded.merge_request == MergeRequestRef("m")
    store.update("s9", context=loaded.context, merge_request=MergeRequestRef("m", 2))
    again = store.get("s9")
    assert again.context == loaded.context and again.merge_request == MergeRequestRef("m", 2)


def test_a_prompt_keeps_its_origin(redis: Redis) -> None:
    origin = SlackOrigin("C1", "1.2", "U1")
    queue = PromptQueue(redis)
    prompt = queued(redis, "s1", Action.RUN, "hi", ALICE, "r1", origin).prompt
    assert queue.get(prompt.id).origin == origin
    assert queued(redis, "s1", Action.RUN, "hi", ALICE, "r2").prompt.origin is None
