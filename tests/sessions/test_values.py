"""Typed values stored in Redis: they round-trip, and what older versions stored still loads."""

from __future__ import annotations

import json

from redis import Redis

from bot.checks.results import CheckReport, CheckResult, CheckStatus
from bot.compare.outcome import CandidateOutcome, Comparison
from bot.core import keys
from bot.core.config import Settings
from bot.forges.forge import ReplyTarget
from bot.identity.people import Provider, Source
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
from bot.sessions.prompts import Action, PromptQueue, PromptState
from bot.sessions.quote import Quote
from bot.sessions.results import FileLine, RunResult
from bot.sessions.session import Person, Session, Thread
from bot.sessions.session_store import SessionStore
from bot.sessions.thread_context import ThreadContext
from tests.accounts_support import SyncAccounts
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


def test_origins_stored_with_gaps_load_or_are_ignored() -> None:
    forge = origin_from_dict(
        {
            "surface": "forge",
            "comment": None,
            "reply": {"project": "a/b", "kind": "merge_request", "number": 2},
            "review": {"path": "a.py", "line": None, "discussion": [{"body": "hm"}, "stray"]},
        }
    )
    assert forge == ForgeOrigin(
        ForgeComment("someone", "", "", 0),
        ReplyTarget("a/b", "merge_request", 2),
        ReviewSpot("a.py", None, "", (Quote("someone", "hm"),)),
    )
    assert origin_from_dict({"surface": "slack", "channel": "C1", "ts": "1.2"}) == SlackOrigin(
        "C1", "1.2", ""
    )
    assert origin_from_dict({"surface": "slack", "channel": "C1"}) is None  # no message
    assert origin_from_dict({"surface": "email", "user": "x"}) is None
    assert origin_from_dict({"surface": "cli"}) == CliOrigin("")


def test_contexts_and_merge_requests_stored_empty_or_with_nulls() -> None:
    assert ThreadContext.from_dict({}) is None and ThreadContext.from_dict(None) is None
    assert ThreadContext.from_dict({"kind": "pull_request", "number": 1}) is None
    stored = {
        "kind": "merge_request",
        "number": "4",
        "title": None,
        "comments": None,
        "source_branch": "",
        "target_branch": "main",
    }
    assert ThreadContext.from_dict(stored) == ThreadContext(
        "merge_request", 4, target_branch="main"
    )
    assert MergeRequestRef.from_dict({}) is None and MergeRequestRef.from_dict({"url": ""}) is None
    assert MergeRequestRef.from_dict({"url": "m", "number": None}) == MergeRequestRef("m")


def test_a_result_stored_flat_loads_typed(redis: Redis) -> None:
    """A result as the stream and older versions stored it: token counts as `<kind>_tokens`,
    the agent's own figures beside the named fields, nulls where nothing was known, and a
    check report with the `extra` field it lost."""
    prompt = queued(redis, "s1", Action.RUN, "hi", ALICE, "r1").prompt
    checks = {
        "commit": "c1",
        "results": [{"name": "tests", "status": "passed", "required": True, "duration": 2}],
        "setup": {},
        "passed": True,
        "extra": {},
    }
    old = {
        "files": [{"path": "a.py", "added": 3}],
        "diffstat": "1 file changed (+3 −0)",
        "duration_s": None,
        "commit": "",
        "cost_usd": 0.25,
        "input_tokens": 120,
        "output_tokens": 40.0,
        "turns": 4,
        "checks": checks,
    }
    redis.hset(keys.prompt(prompt.id), mapping={"result": json.dumps(old)})
    result = PromptQueue(redis).get(prompt.id).result
    assert result == RunResult(
        files=(FileLine("a.py", 3, 0),),
        diffstat="1 file changed (+3 −0)",
        cost_usd=0.25,
        tokens={"input": 120, "output": 40},
        extra={"turns": 4, "checks": checks},
    )
    assert result.total_tokens == 160
    assert result.check_report == CheckReport(
        "c1", (CheckResult("tests", CheckStatus.PASSED, True, 2.0),)
    )


def test_a_comparison_stored_with_gaps_loads() -> None:
    stored = {
        "candidates": [
            {"number": 1},
            {"number": 2, "label": "opus", "state": "done", "result": {"cost_usd": 0.5}},
        ],
        "base_commit": None,
        "picked": "2",
        "picked_by": "",
    }
    comparison = Comparison.of(RunResult.from_dict({"comparison": stored}))
    assert comparison == Comparison(
        (
            CandidateOutcome(1, "", PromptState.FAILED),
            CandidateOutcome(2, "opus", PromptState.DONE, RunResult(cost_usd=0.5)),
        ),
        "",
        picked=2,
    )


def test_a_connection_stored_without_scopes_or_source_reads_as_a_pasted_token(
    redis: Redis, settings: Settings
) -> None:
    accounts = SyncAccounts(settings, redis)
    person = accounts.create_person("Alice")
    old = {
        "provider": "gitlab",
        "login": "alice",
        "masked": "glpat-****abcd",
        "linked_at": 1.5,
        "sealed": "x",
    }
    redis.hset(keys.credentials(person.id), "gitlab", json.dumps(old))
    [found] = accounts.connections(person.id)
    assert (found.provider, found.login, found.scopes, found.source) == (
        Provider.GITLAB,
        "alice",
        (),
        Source.TOKEN,
    )
