"""The fake's streaming and assistant-thread methods, driven by the real slack_sdk clients
(`chat_stream` helpers and the raw methods), refuse what Slack documents it refuses."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.models.messages.chunk import MarkdownTextChunk, TaskUpdateChunk
from slack_sdk.web import WebClient
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack import FakeSlack

CHANNEL, DM, TEAM, USER = "C0CHAN", "D0DM", "T0001", "U0ALICE"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=slack.api_url)


def ask(slack: FakeSlack, channel: str = CHANNEL) -> str:
    """A person's message the stream answers (its ts is the thread)."""
    return slack.add_message(channel, "please fix the tests", user=USER).ts


def error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as raised:
        call()
    return str(raised.value.response["error"])


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def test_chat_stream_helper_in_a_channel(slack: FakeSlack, client: WebClient) -> None:
    thread = ask(slack)
    streamer = client.chat_stream(
        channel=CHANNEL,
        thread_ts=thread,
        recipient_team_id=TEAM,
        recipient_user_id=USER,
        buffer_size=10,
    )
    streamer.append(markdown_text="Looking at ")
    streamer.append(markdown_text="the failing test.\n")
    streamer.append(chunks=[TaskUpdateChunk(id="t1", title="Run pytest", status="in_progress")])
    streamer.append(
        chunks=[TaskUpdateChunk(id="t1", title="Run pytest", status="complete", details="exit 0")]
    )
    streamer.stop(markdown_text="Done.", blocks=[section("*2 files changed*")])

    (stream,) = slack.streams.streams(CHANNEL, thread)
    assert stream.text == "Looking at the failing test.\nDone."
    assert stream.task_states() == {"t1": "complete"}
    assert stream.tasks["t1"].statuses == ["in_progress", "complete"]
    assert stream.tasks["t1"].details == "exit 0"
    assert (stream.recipient_user_id, stream.recipient_team_id) == (USER, TEAM)
    assert not stream.open and stream.blocks == [section("*2 files changed*")]
    message = slack.message(CHANNEL, stream.ts)
    assert message.thread_ts == thread and message.bot_id == slack.bot_id
    assert message.visible_text.splitlines() == [
        "Looking at the failing test.",
        "Done.",
        "[complete] Run pytest",
        "*2 files changed*",
    ]
    methods = [c.path.removeprefix("/api/") for c in slack.calls]
    assert methods == ["chat.startStream"] + ["chat.appendStream"] * 3 + ["chat.stopStream"]
    replies = client.conversations_replies(channel=CHANNEL, ts=thread)["messages"]
    assert [m["ts"] for m in replies] == [thread, stream.ts]


def test_async_chat_stream_in_a_dm_needs_no_recipient(slack: FakeSlack) -> None:
    thread = ask(slack, DM)

    async def scenario() -> None:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
        streamer = await client.chat_stream(channel=DM, thread_ts=thread, buffer_size=1)
        await streamer.append(markdown_text="hello")
        await streamer.stop(chunks=[MarkdownTextChunk(text=" world")])

    asyncio.run(scenario())
    (stream,) = slack.streams.streams(DM)
    assert (stream.text, stream.open) == ("hello world", False)


def test_arguments_slack_refuses(slack: FakeSlack, client: WebClient) -> None:
    thread = ask(slack)
    start = client.chat_startStream
    assert error_of(lambda: start(channel=CHANNEL, thread_ts=thread)) == "missing_recipient_user_id"
    assert (
        error_of(lambda: start(channel=CHANNEL, thread_ts=thread, recipient_user_id=USER))
        == "missing_recipient_team_id"
    )
    who = {"recipient_user_id": USER, "recipient_team_id": TEAM}
    assert error_of(lambda: start(channel=CHANNEL, thread_ts="1.000001", **who)) == (
        "thread_not_found"
    )
    assert (
        error_of(lambda: start(channel=CHANNEL, thread_ts=thread, task_display_mode="grid", **who))
        == "invalid_arguments"
    )
    bad = [
        {"type": "task_update", "id": "t", "title": "x" * 257, "status": "done"},
        {"type": "markdown_text", "text": "y" * 12_001},
        {"type": "confetti"},
    ]
    with pytest.raises(SlackApiError) as raised:
        start(channel=CHANNEL, thread_ts=thread, chunks=bad, **who)
    assert raised.value.response["error"] == "invalid_chunks"
    assert [e.split(" [")[0] for e in raised.value.response["errors"]] == [
        "must be at most 256 characters",
        "must be one of pending, in_progress, complete, error",
        "must be at most 12000 characters",
        "unknown chunk type",
    ]
    assert (
        error_of(
            lambda: start(channel=CHANNEL, thread_ts=thread, markdown_text="z" * 12_001, **who)
        )
        == "msg_too_long"
    )
    assert slack.streams.streams() == []

    ts = start(channel=CHANNEL, thread_ts=thread, markdown_text="ok", **who)["ts"]
    assert error_of(lambda: client.chat_appendStream(channel=CHANNEL, ts=ts)) == "no_text"
    assert (
        error_of(lambda: client.chat_update(channel=CHANNEL, ts=ts, text="edit"))
        == "streaming_state_conflict"
    )
    too_many = [section(str(i)) for i in range(51)]
    assert error_of(lambda: client.chat_stopStream(channel=CHANNEL, ts=ts, blocks=too_many)) == (
        "invalid_blocks"
    )
    client.chat_stopStream(channel=CHANNEL, ts=ts)
    assert (
        error_of(lambda: client.chat_appendStream(channel=CHANNEL, ts=ts, markdown_text="more"))
        == "message_not_in_streaming_state"
    )
    assert error_of(lambda: client.chat_stopStream(channel=CHANNEL, ts=ts)) == (
        "message_not_in_streaming_state"
    )
    client.chat_update(channel=CHANNEL, ts=ts, text="edited after the stream")
    assert slack.take_violations(), "the fake records each refusal as a violation"


def test_streams_end_after_their_lifetime(slack: FakeSlack, client: WebClient) -> None:
    thread = ask(slack, DM)
    ts = client.chat_startStream(channel=DM, thread_ts=thread, markdown_text="a")["ts"]
    client.chat_appendStream(channel=DM, ts=ts, markdown_text="b")
    slack.streams.age(slack.streams.max_age + 1)
    assert (
        error_of(lambda: client.chat_appendStream(channel=DM, ts=ts, markdown_text="c"))
        == "message_not_in_streaming_state"
    )
    assert slack.streams.stream(DM, ts).text == "ab"


def test_refusing_streaming_per_channel(slack: FakeSlack, client: WebClient) -> None:
    thread, other = ask(slack), ask(slack, "C0OTHER")
    slack.streams.refuse(CHANNEL, "enterprise_is_restricted")
    who = {"recipient_user_id": USER, "recipient_team_id": TEAM}
    start = client.chat_startStream
    assert error_of(lambda: start(channel=CHANNEL, thread_ts=thread, **who)) == (
        "enterprise_is_restricted"
    )
    start(channel="C0OTHER", thread_ts=other, **who)
    slack.streams.allow(CHANNEL)
    start(channel=CHANNEL, thread_ts=thread, **who)


def test_tier_limits_answer_429_with_retry_after(slack: FakeSlack, client: WebClient) -> None:
    client.retry_handlers.clear()  # see the 429 itself, not the SDK's retry of it
    thread = ask(slack, DM)
    slack.streams.limit("chat.appendStream", calls=2, per=30.0)
    ts = client.chat_startStream(channel=DM, thread_ts=thread, markdown_text="a")["ts"]
    client.chat_appendStream(channel=DM, ts=ts, markdown_text="b")
    client.chat_appendStream(channel=DM, ts=ts, markdown_text="c")
    with pytest.raises(SlackApiError) as raised:
        client.chat_appendStream(channel=DM, ts=ts, markdown_text="d")
    assert raised.value.response.status_code == 429
    assert 29 <= int(raised.value.response.headers["Retry-After"]) <= 30
    assert len(slack.throttled("chat.appendStream")) == 1
    assert slack.streams.stream(DM, ts).text == "abc"
    assert slack.streams.rates.limits["chat.startStream"] == (20, 60.0)  # Tier 2 by default


def test_assistant_thread_methods(slack: FakeSlack, client: WebClient) -> None:
    thread = ask(slack, DM)
    client.assistant_threads_setStatus(
        channel_id=DM, thread_ts=thread, status="is working…", loading_messages=["Reading"]
    )
    client.assistant_threads_setStatus(channel_id=DM, thread_ts=thread, status="")
    client.assistant_threads_setSuggestedPrompts(
        channel_id=DM,
        thread_ts=thread,
        title="Try",
        prompts=[{"title": "Help", "message": "help"}],
    )
    client.assistant_threads_setTitle(channel_id=DM, thread_ts=thread, title="acme/api: fix it")
    assert [s["status"] for s in slack.streams.statuses] == ["is working…", ""]
    assert slack.streams.suggested_prompts[0]["prompts"] == [{"title": "Help", "message": "help"}]
    assert slack.streams.titles == [
        {"channel": DM, "thread_ts": thread, "title": "acme/api: fix it"}
    ]

    status = client.assistant_threads_setStatus
    assert error_of(lambda: status(channel_id=DM, thread_ts="1.000001", status="x")) == (
        "invalid_thread_ts"
    )
    loading = [str(i) for i in range(11)]
    assert (
        error_of(
            lambda: status(channel_id=DM, thread_ts=thread, status="x", loading_messages=loading)
        )
        == "invalid_arguments"
    )
    five = [{"title": str(i), "message": str(i)} for i in range(5)]
    assert (
        error_of(
            lambda: client.assistant_threads_setSuggestedPrompts(
                channel_id=DM, thread_ts=thread, prompts=five
            )
        )
        == "invalid_arguments"
    )
    assert (
        error_of(
            lambda: client.assistant_threads_setTitle(channel_id=DM, thread_ts=thread, title=" ")
        )
        == "invalid_arguments"
    )
    assert slack.take_violations(), "the fake records each refusal as a violation"
