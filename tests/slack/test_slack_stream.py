"""The streaming writer against the fake Slack API (real slack_sdk client, real Valkey):
what a person sees in the thread, how many calls it took, and the fallback."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from redis import Redis
from slack_sdk.web import WebClient

from bot.core import keys
from bot.core.config import Settings
from bot.progress.shared import RedisShared
from bot.surfaces.slack.clients import web_client
from bot.surfaces.slack.stream.budget import AppendBudget
from bot.surfaces.slack.stream.refusals import RefusalMemory
from bot.surfaces.slack.stream.status import ThreadStatus
from bot.surfaces.slack.stream.values import (
    MAX_MARKDOWN,
    StreamTarget,
    TaskStatus,
    TaskUpdate,
    markdown_chunks,
)
from bot.surfaces.slack.stream.writer import Outcome, StreamWriter
from tests.fakes.slack import FakeSlack

CHANNEL, TEAM, ALICE = "C0CHAN", "T0001", "U0ALICE"


class Clock:
    """A clock the writer reads and sleeps on: sleeping moves it, nothing waits."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    return web_client(Settings(slack_bot_token="xoxb-test", slack_api_url=slack.api_url))


@pytest.fixture
def clock() -> Clock:
    return Clock()


def target(slack: FakeSlack, channel: str = CHANNEL, user: str | None = ALICE) -> StreamTarget:
    asked = slack.add_message(channel, "@repobox fix the flaky test", user=ALICE)
    return StreamTarget(channel, asked.ts, team_id=TEAM if user else None, user_id=user)


def writer(client: WebClient, to: StreamTarget, clock: Clock, **options: Any) -> StreamWriter:
    return StreamWriter(client, to, clock=clock, sleep=clock.sleep, **options)


def methods(slack: FakeSlack) -> list[str]:
    return [c.path.removeprefix("/api/") for c in slack.calls]


SUMMARY = [
    {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": "*2 files changed* (+12 −3) · 41k tokens · $0.18 · 2m 5s",
        },
    },
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Ship it"},
                "action_id": "ship",
            },
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "View log"},
                "url": "http://x/l",
            },
        ],
    },
]


def test_a_run_streams_text_and_one_card_per_step(
    slack: FakeSlack, client: WebClient, clock: Clock
) -> None:
    to = target(slack)
    reply = writer(client, to, clock)
    assert reply.start("I'll look at the test first.\n") is Outcome.STREAMING
    read = TaskUpdate("t1", "Read tests/test_api.py")
    reply.task(read)
    reply.flush()  # within the interval: nothing sent yet
    clock.now += 1
    reply.task(read.with_status(TaskStatus.COMPLETE, "120 lines"))
    pytest_run = TaskUpdate("t2", "Run `pytest -q`", details="$ pytest -q")
    reply.task(pytest_run)
    reply.flush()
    clock.now += 1
    reply.task(pytest_run.with_status(TaskStatus.ERROR, "exit code 1"))
    reply.text("One test fails on a timezone; fixing it.\n")
    edit = TaskUpdate("t3", "Edit api/dates.py", TaskStatus.COMPLETE, details="+12 −3")
    reply.task(edit)
    assert reply.stop(markdown="Fixed.", blocks=SUMMARY) is Outcome.STOPPED

    (stream,) = slack.streams.streams(CHANNEL, to.thread_ts)
    assert stream.text == (
        "I'll look at the test first.\nOne test fails on a timezone; fixing it.\nFixed."
    )
    assert stream.task_states() == {"t1": "complete", "t2": "error", "t3": "complete"}
    assert stream.tasks["t1"].statuses == ["complete"]  # folded into one update per batch
    assert stream.tasks["t2"].statuses == ["in_progress", "error"]
    assert stream.tasks["t2"].details == "exit code 1"
    assert (stream.recipient_user_id, stream.recipient_team_id) == (ALICE, TEAM)
    assert stream.blocks == SUMMARY and not stream.open
    shown = slack.message(CHANNEL, stream.ts).visible_text
    assert "[error] Run `pytest -q`" in shown and "Ship it" in shown and "View log" in shown
    assert methods(slack) == ["chat.startStream", "chat.appendStream", "chat.stopStream"]
    assert reply.calls == 3 and reply.messages == [stream.ts]


def test_a_thousand_lines_in_ten_seconds_stay_inside_the_tiers(
    slack: FakeSlack, client: WebClient, clock: Clock
) -> None:
    to = target(slack)
    reply = writer(client, to, clock)
    reply.start()
    step = TaskUpdate("run-1", "Run `./print_lines.sh`")
    for i in range(1_000):
        clock.now += 0.01
        reply.task(step.with_status(TaskStatus.IN_PROGRESS, f"step {i + 1}: checking module.py"))
        reply.flush()
    reply.task(step.with_status(TaskStatus.COMPLETE, "exit code 0"))
    reply.stop(markdown="Printed every line.")

    # one append a second at most: 60 a minute where Tier 4 allows 100+
    appends = slack.calls_to("chat.appendStream")
    assert 9 <= len(appends) <= 10
    assert len(methods(slack)) == len(appends) + 2 and slack.throttled() == []
    (stream,) = slack.streams.streams(CHANNEL)
    assert stream.task_states() == {"run-1": "complete"}
    assert stream.tasks["run-1"].details == "exit code 0"
    last_line = appends[-1].json["chunks"][0]["details"]
    assert int(last_line.split()[1].rstrip(":")) >= 900  # and the stop carries the rest


def test_a_cancelled_run_stops_with_its_open_cards_ended(
    slack: FakeSlack, client: WebClient, clock: Clock
) -> None:
    reply = writer(client, target(slack), clock)
    reply.start()
    reply.task(TaskUpdate("t1", "Read README.md", TaskStatus.COMPLETE))
    reply.task(TaskUpdate("t2", "Run `make test`"))
    reply.flush(force=True)
    cancelled = [
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "Cancelled by <@U0ALICE> after 40s"}],
        }
    ]
    reply.stop(
        markdown="Stopped.", blocks=cancelled, open_tasks=TaskStatus.ERROR, open_details="cancelled"
    )
    (stream,) = slack.streams.streams(CHANNEL)
    assert stream.task_states() == {"t1": "complete", "t2": "error"}
    assert stream.tasks["t2"].details == "cancelled"
    assert "Cancelled by <@U0ALICE>" in slack.message(CHANNEL, stream.ts).visible_text


def test_a_429_storm_still_lands_the_final_state(
    slack: FakeSlack, client: WebClient, clock: Clock
) -> None:
    reply = writer(client, target(slack), clock)
    slack.streams.limit("chat.appendStream", calls=1, per=60.0)
    reply.start()
    reply.text("first ")
    reply.flush(force=True)
    reply.text("second ")
    clock.now += 1
    assert reply.flush() is Outcome.STREAMING  # 429: kept, and pushed back by Retry-After
    reply.text("third ")
    clock.now += 1
    reply.flush()
    assert len(slack.calls_to("chat.appendStream")) == 2  # no third try before Retry-After
    slack.rate_limit("chat.stopStream", times=3, retry_after=2)
    assert reply.stop(markdown="done", blocks=SUMMARY) is Outcome.STOPPED

    (stream,) = slack.streams.streams(CHANNEL)
    assert stream.text == "first second third done"
    assert stream.blocks == SUMMARY
    assert clock.slept == [2.0, 2.0, 2.0]  # the stop waited out each Retry-After
    assert len(slack.throttled("chat.appendStream")) == 1  # the tier's own 429
    assert len(slack.throttled("chat.stopStream")) == 3


def test_refusal_falls_back_and_is_remembered(
    slack: FakeSlack, client: WebClient, clock: Clock, redis: Redis
) -> None:
    memory = RefusalMemory(RedisShared(redis), ttl=3600)
    slack.streams.refuse(CHANNEL, "method_not_supported_for_channel_type")
    first = writer(client, target(slack), clock, refusals=memory)
    assert first.start() is Outcome.FALLBACK
    assert first.fallback is not None
    assert (first.fallback.code, first.fallback.remembered) == (
        "method_not_supported_for_channel_type",
        True,
    )
    assert first.stop(markdown="ignored") is Outcome.FALLBACK
    key = keys.slack_stream_refused(TEAM, CHANNEL)
    assert 0 < redis.ttl(key) <= 3600

    slack.calls.clear()
    second = writer(client, target(slack), clock, refusals=memory)
    assert second.start() is Outcome.FALLBACK
    assert slack.calls_to("chat.startStream") == []  # not asked again
    assert slack.streams.streams() == [] and slack.messages(CHANNEL, first.target.thread_ts) == []

    elsewhere = writer(client, target(slack, "C0OTHER"), clock, refusals=memory)
    assert elsewhere.start() is Outcome.STREAMING


def test_a_missing_recipient_falls_back_once_without_remembering(
    slack: FakeSlack, client: WebClient, clock: Clock, redis: Redis
) -> None:
    memory = RefusalMemory(RedisShared(redis))
    reply = writer(client, target(slack, user=None), clock, refusals=memory)
    assert reply.start() is Outcome.FALLBACK
    assert reply.fallback is not None and reply.fallback.code == "missing_recipient_user_id"
    assert not reply.fallback.remembered and memory.refused(TEAM, CHANNEL) is None


def test_a_stream_slack_ended_is_continued_in_a_new_message(
    slack: FakeSlack, client: WebClient, clock: Clock
) -> None:
    reply = writer(client, target(slack), clock)
    reply.start()
    reply.task(TaskUpdate("t1", "Run the whole suite"))
    reply.flush(force=True)
    slack.streams.age(slack.streams.max_age + 1)  # Slack's clock: the stream is over now
    reply.text("still going\n")
    clock.now += 1
    reply.flush()
    slack.streams.age(slack.streams.max_age + 1)  # … and so is the second, before the end
    reply.task(TaskUpdate("t1", "Run the whole suite", TaskStatus.COMPLETE))
    assert reply.stop(blocks=SUMMARY) is Outcome.STOPPED

    first, second, third = slack.streams.streams(CHANNEL)
    assert reply.messages == [first.ts, second.ts, third.ts]
    assert first.task_states() == {"t1": "in_progress"}
    assert second.text == "still going\n" and second.task_states() == {"t1": "in_progress"}
    assert third.task_states() == {"t1": "complete"} and third.blocks == SUMMARY


def test_long_streams_roll_over_before_slack_ends_them(
    slack: FakeSlack, client: WebClient, clock: Clock
) -> None:
    reply = writer(client, target(slack), clock, max_age=240.0)
    reply.start()
    reply.task(TaskUpdate("t1", "Run the migrations"))
    reply.flush(force=True)
    clock.now += 241
    reply.text("halfway\n")
    reply.flush()
    reply.stop(markdown="done")
    old, new = slack.streams.streams(CHANNEL)
    assert not old.open and old.task_states() == {"t1": "in_progress"}
    assert new.text == "halfway\ndone" and new.task_states() == {"t1": "in_progress"}


def test_thread_status_set_and_clear(slack: FakeSlack, client: WebClient) -> None:
    to = target(slack, "D0DM")
    status = ThreadStatus(client, to.channel, to.thread_ts)
    assert status.set("is working on acme/api…", ["Reading files", "Running tests"])
    assert status.clear()
    assert [s["status"] for s in slack.streams.statuses] == ["is working on acme/api…", ""]
    assert not ThreadStatus(client, "D0DM", "1.000001").set("x")  # logged, never raised
    slack.rate_limit("assistant.threads.setStatus", retry_after=30)
    began = time.monotonic()
    assert not status.set("is still working…")  # decoration: no waiting out Retry-After
    assert time.monotonic() - began < 5


def test_limits_are_kept_by_clipping_and_splitting() -> None:
    long_title = TaskUpdate("t", "x" * 300, details="y" * 300).to_chunk().to_dict()
    assert len(long_title["title"]) == 256 and long_title["title"].endswith("…")
    assert len(long_title["details"]) == 256
    text = ("line\n" * 5_000)[:-1]
    chunks = [chunk.to_dict() for chunk in markdown_chunks(text)]
    assert "".join(c["text"] for c in chunks) == text
    assert all(len(c["text"]) <= MAX_MARKDOWN for c in chunks) and len(chunks) == 3
    assert chunks[0]["text"].endswith("\n")
    with pytest.raises(ValueError):
        StreamTarget("C1", "")


def test_streams_of_one_workspace_share_the_append_budget(
    slack: FakeSlack, client: WebClient, clock: Clock, redis: Redis
) -> None:
    def budget(team: str = TEAM) -> AppendBudget:  # 1 append a window
        return AppendBudget(RedisShared(redis), team, per_minute=6, window=10.0, clock=clock)

    first = writer(client, target(slack), clock, budget=budget())
    second = writer(client, target(slack), clock, budget=budget())
    other_team = writer(client, target(slack, "C0ELSE"), clock, budget=budget("T0OTHER"))
    for reply in (first, second, other_team):
        reply.start()
        reply.text("working\n")
    clock.now += 1
    for reply in (first, second, other_team):
        reply.flush()
    appended = [c.json["ts"] for c in slack.calls_to("chat.appendStream")]
    assert appended == [first.ts, other_team.ts]  # the second waits for the next window
    clock.now += 10
    second.flush()
    assert slack.calls_to("chat.appendStream")[-1].json["ts"] == second.ts
    for reply in (first, second, other_team):
        assert reply.stop() is Outcome.STOPPED
    assert [s.text for s in slack.streams.streams()] == ["working\n"] * 3


def test_a_429_holds_every_stream_of_the_workspace(
    slack: FakeSlack, client: WebClient, clock: Clock, redis: Redis
) -> None:
    slack.streams.limit("chat.appendStream", calls=1, per=60.0)  # the workspace's tier
    shared = {"shared": RedisShared(redis), "team_id": TEAM, "per_minute": 600, "clock": clock}
    first = writer(client, target(slack), clock, budget=AppendBudget(**shared))
    second = writer(client, target(slack), clock, budget=AppendBudget(**shared))
    for reply in (first, second):
        reply.start()
        reply.text("a")
    clock.now += 1
    first.flush()
    second.flush()  # 429: Retry-After pauses the workspace
    first.text("b")
    clock.now += 1
    first.flush()  # held by the pause, not sent into another 429
    assert len(slack.calls_to("chat.appendStream")) == 2
    assert len(slack.throttled("chat.appendStream")) == 1


def test_a_reply_goes_on_from_a_snapshot_in_another_pass(
    slack: FakeSlack, client: WebClient, clock: Clock
) -> None:
    first_pass = writer(client, target(slack), clock)
    first_pass.start("Starting.\n")
    first_pass.task(TaskUpdate("t1", "Run `make`"))
    first_pass.flush(force=True)
    first_pass.text("not sent yet\n")
    saved = json.loads(json.dumps(first_pass.snapshot()))  # as it would sit in Redis

    clock.now += 2
    next_pass = StreamWriter.resumed(client, saved, clock=clock, sleep=clock.sleep)
    next_pass.task(TaskUpdate("t1", "Run `make`", TaskStatus.COMPLETE, details="exit code 0"))
    assert next_pass.stop(markdown="Done.") is Outcome.STOPPED

    (stream,) = slack.streams.streams(CHANNEL)
    assert stream.text == "Starting.\nnot sent yet\nDone."
    assert stream.task_states() == {"t1": "complete"}
    assert next_pass.messages == first_pass.messages == [stream.ts]

    refused = writer(client, target(slack, user=None), clock)
    refused.start()
    again = StreamWriter.resumed(client, refused.snapshot())
    assert again.outcome is Outcome.FALLBACK and again.fallback == refused.fallback


def test_a_snapshot_saved_before_slack_sdk_chunk_types_still_resumes(
    slack: FakeSlack, client: WebClient, clock: Clock
) -> None:
    """A reply in flight across the upgrade: its snapshot, as the writer kept it when
    chunks were plain dicts, goes on where it stopped."""
    asked = target(slack)
    opened = writer(client, asked, clock)
    opened.start()
    saved = {
        "target": {"channel": CHANNEL, "thread_ts": asked.thread_ts, "team_id": TEAM,
                   "user_id": ALICE},
        "outcome": "streaming",
        "fallback": None,
        "messages": opened.messages,
        "tasks": [{"id": "t1", "title": "Run `make`", "status": "in_progress",
                   "details": None, "output": None}],
        "pending": [{"type": "markdown_text", "text": "half a sentence "},
                    {"type": "task_update", "id": "t1", "title": "Run `make`",
                     "status": "in_progress"}],
        "started_at": clock.now,
        "next_at": clock.now,
    }  # fmt: skip
    resumed = StreamWriter.resumed(client, saved, clock=clock, sleep=clock.sleep)
    resumed.task(TaskUpdate("t1", "Run `make`", TaskStatus.COMPLETE))
    assert resumed.stop(markdown="and the rest.") is Outcome.STOPPED

    (stream,) = slack.streams.streams(CHANNEL)
    assert stream.text == "half a sentence and the rest."
    assert stream.task_states() == {"t1": "complete"}
