"""A workspace's Tier 2 minute of `chat.startStream` / `chat.stopStream`, shared by every
writer in every process through real Valkey, against the fake Slack enforcing the tiers:
past it a reply is an edited message at once (complete), never a 429 or a wait."""

from __future__ import annotations

import json
import time

from redis import Redis
from slack_sdk.web import WebClient

from bot.core.config import Settings
from bot.progress.shared import RedisShared
from bot.surfaces.slack.clients import web_client
from bot.surfaces.slack.stream.slots import PER_MINUTE, StreamSlots
from bot.surfaces.slack.stream.values import StreamTarget
from bot.surfaces.slack.stream.writer import Outcome, StreamWriter
from jobs.steps.context import JobContext
from tests.conftest import MakeRepo, run_jobs
from tests.fakes.slack import FakeSlack
from tests.slack.support import CHANNEL, TEAM, TOKEN, Workspace, thread_texts

ALICE = "U0ALICE"


def client_for(slack: FakeSlack) -> WebClient:
    return web_client(Settings(slack_bot_token=TOKEN, slack_api_url=slack.api_url))


def writer(slack: FakeSlack, slots: StreamSlots) -> StreamWriter:
    """A reply's writer as a worker would make it (each its own client, as each process)."""
    asked = slack.add_message(CHANNEL, "@repobox go", user=ALICE)
    to = StreamTarget(CHANNEL, asked.ts, team_id=TEAM, user_id=ALICE)
    return StreamWriter(client_for(slack), to, slots=slots)


def test_two_workers_share_the_minute_and_a_started_stream_can_always_stop(
    slack: FakeSlack, redis: Redis
) -> None:
    one, two = (StreamSlots(RedisShared(redis), TEAM, per_minute=2) for _ in range(2))
    first, second, third = writer(slack, one), writer(slack, two), writer(slack, one)

    assert first.start() is Outcome.STREAMING and second.start() is Outcome.STREAMING
    assert third.start() is Outcome.FALLBACK  # the other worker took the last place
    assert third.fallback is not None and third.fallback.code == "paced"
    assert not third.fallback.remembered  # pacing is no refusal: the next reply may stream
    assert len(slack.calls_to("chat.startStream")) == 2
    # both stops were reserved with their starts: the minute being spent never blocks them
    assert first.stop(markdown="done") is Outcome.STOPPED
    assert second.stop(markdown="done") is Outcome.STOPPED
    assert not slack.throttled()


def test_a_resumed_writer_stops_on_the_place_its_start_reserved(
    slack: FakeSlack, redis: Redis
) -> None:
    slots = StreamSlots(RedisShared(redis), TEAM, per_minute=1)
    first = writer(slack, slots)
    assert first.start() is Outcome.STREAMING
    again = StreamWriter.resumed(client_for(slack), first.snapshot(), slots=slots)
    assert writer(slack, slots).start() is Outcome.FALLBACK  # the minute is spent
    assert again.stop(markdown="the end") is Outcome.STOPPED
    assert not slack.throttled()


def test_a_burst_beyond_the_tier_meets_no_429(slack: FakeSlack, redis: Redis) -> None:
    """30 replies at once, from three "hosts": the tier's worth stream, the rest fall back."""
    hosts = [StreamSlots(RedisShared(redis), TEAM) for _ in range(3)]
    writers = [writer(slack, hosts[n % 3]) for n in range(30)]
    outcomes = [w.start() for w in writers]
    for w in writers:
        w.stop(markdown="done")

    assert outcomes.count(Outcome.STREAMING) == PER_MINUTE
    assert outcomes.count(Outcome.FALLBACK) == 30 - PER_MINUTE
    assert not slack.throttled()
    assert len(slack.calls_to("chat.stopStream")) == PER_MINUTE


def test_past_the_minute_a_run_is_an_edited_reply_and_complete(
    workspace: Workspace,
    slack: FakeSlack,
    slack_ctx: JobContext,
    redis: Redis,
    make_repo: MakeRepo,
) -> None:
    elsewhere = StreamSlots(RedisShared(redis), TEAM)  # other replies took the minute
    assert all(elsewhere.open() for _ in range(PER_MINUTE))
    step = {"type": "tool_use", "id": "t-1", "name": "Read", "input": {"file_path": "a"}}
    line = json.dumps({"type": "assistant", "message": {"content": [step]}})
    message, _ = workspace.mention(f"{make_repo()} {line}\nwrite notes.txt: hello")
    run_jobs(slack_ctx)

    assert not slack.calls_to("chat.startStream") and not slack.streams.streams()
    texts = thread_texts(slack, CHANNEL, message.ts)
    done = [t for t in texts if t.startswith("✅ *Done* in")]
    assert len(done) == 1 and "notes.txt" in done[0], texts
    assert slack.reactions(CHANNEL, message.ts) == ["white_check_mark"]
    assert not slack.throttled()
    assert not any("stream" in t.lower() or "paced" in t.lower() for t in texts)


def test_a_start_slack_holds_back_is_an_edited_reply_at_once(
    slack: FakeSlack, redis: Redis
) -> None:
    """Slack's own minute may disagree with ours (another app install, a clock edge): a
    429 on a start is no reason for a worker to sit out its Retry-After."""
    slack.rate_limit("chat.startStream", times=1, retry_after=30)
    reply = writer(slack, StreamSlots(RedisShared(redis), TEAM))
    began = time.monotonic()
    assert reply.start() is Outcome.FALLBACK
    assert time.monotonic() - began < 10
    assert reply.fallback is not None and not reply.fallback.remembered
