"""The real anthropic SDK against FakeAnthropic: if these pass, agent tests can trust the fake."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

from tests.fakes.anthropic import (
    MESSAGES_PATH,
    NO_REPLY_LEFT,
    FakeAnthropic,
    Reply,
    Text,
    TokenUsage,
    ToolUse,
)

MODEL = "claude-sonnet-4-6"
READ_FILE_TOOL: dict[str, Any] = {
    "name": "read_file",
    "description": "Read a file in the workdir.",
    "input_schema": {
        "type": "object",
        "properties": {"path": {"type": "string"}, "limit": {"type": "integer"}},
        "required": ["path"],
    },
}


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    server = FakeAnthropic()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def client(fake: FakeAnthropic) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(api_key="test-key", base_url=fake.url, max_retries=2) as sdk:
        yield sdk


def ask(prompt: str = "hi") -> dict[str, Any]:
    return {"model": MODEL, "max_tokens": 1024, "messages": [{"role": "user", "content": prompt}]}


def test_streaming_text(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    text = "Hello from the fake model, streamed in several small pieces."
    fake.script(Reply.text(text))

    with client.messages.stream(**ask()) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()

    assert len(pieces) > 2
    assert "".join(pieces) == text
    assert final.content[0].type == "text"
    assert final.content[0].text == text
    assert final.stop_reason == "end_turn"
    assert final.id.startswith("msg_")
    assert final.model == MODEL
    fake.assert_done()


def test_stream_event_order_matches_the_api(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    fake.script(Reply(["Looking.", ToolUse("read_file", {"path": "a.py"})]))

    events = list(client.messages.create(**ask(), stream=True))
    kinds = [e.type for e in events]

    assert kinds[0] == "message_start"
    assert kinds[1] == "content_block_start"
    assert kinds[-2:] == ["message_delta", "message_stop"]
    assert kinds.count("content_block_start") == kinds.count("content_block_stop") == 2
    raw = fake.calls_to(MESSAGES_PATH)[-1]
    assert raw.status == 200
    # The SDK skips `ping` events, so check the raw stream has one where the API puts it.
    body = b"".join(_raw_stream(fake, ask()))
    assert body.index(b"event: ping") > body.index(b"event: content_block_start")


def _raw_stream(fake: FakeAnthropic, request: dict[str, Any]) -> list[bytes]:
    fake.script(Reply.text("again"))
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    status, content_type, body = _post(fake, {**request, "stream": True}, headers)
    assert status == 200
    assert content_type.startswith("text/event-stream")
    return body.splitlines(keepends=True)


def _post(
    fake: FakeAnthropic, body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, str, bytes]:
    """A bare HTTP call, for what the SDK will not send (no key) or hides (ping events)."""
    connection = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
    try:
        connection.request(
            "POST",
            MESSAGES_PATH,
            body=json.dumps(body),
            headers={**headers, "content-type": "application/json"},
        )
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


def test_streamed_tool_use_split_across_deltas(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    reply = Reply.tool_use(
        "read_file", {"path": "src/module/a.py", "limit": 40}, text="Let me read it."
    )
    fake.script(reply)

    json_pieces: list[str] = []
    with client.messages.stream(**ask(), tools=[READ_FILE_TOOL]) as stream:
        for event in stream:
            if event.type == "content_block_delta" and event.delta.type == "input_json_delta":
                json_pieces.append(event.delta.partial_json)
        final = stream.get_final_message()

    assert len([p for p in json_pieces if p]) >= 3
    assert final.stop_reason == "tool_use"
    assert [b.type for b in final.content] == ["text", "tool_use"]
    call = final.content[1]
    assert call.type == "tool_use"
    assert call.name == "read_file"
    assert call.input == {"path": "src/module/a.py", "limit": 40}
    assert call.id == reply.tool_uses[0].id
    assert call.id.startswith("toolu_")


def test_multi_turn_tool_result_is_recorded(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    first = Reply.tool_use("read_file", {"path": "a.py"})
    fake.script(first, Reply.text("a.py prints hello."))
    system = [{"type": "text", "text": "You are Repobox.", "cache_control": {"type": "ephemeral"}}]
    messages: list[dict[str, Any]] = [{"role": "user", "content": "What does a.py do?"}]

    with client.messages.stream(
        model=MODEL, max_tokens=1024, system=system, tools=[READ_FILE_TOOL], messages=messages
    ) as stream:
        turn = stream.get_final_message()
    messages.append({"role": "assistant", "content": turn.content})
    tool_id = turn.content[0].id
    messages.append(
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": tool_id, "content": "print('hi')"}],
        }
    )
    with client.messages.stream(
        model=MODEL, max_tokens=1024, system=system, tools=[READ_FILE_TOOL], messages=messages
    ) as stream:
        answer = stream.get_final_text()

    assert answer == "a.py prints hello."
    requests = fake.requests()
    assert len(requests) == 2
    assert requests[0]["system"] == system
    assert requests[0]["tools"][0]["name"] == "read_file"
    assert requests[0]["stream"] is True
    assert requests[1]["messages"][1]["content"][0]["type"] == "tool_use"
    assert fake.tool_results() == [
        {"type": "tool_result", "tool_use_id": first.tool_uses[0].id, "content": "print('hi')"}
    ]
    fake.assert_done()


def test_unanswered_tool_use_is_rejected_like_the_api(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    messages = [
        {"role": "user", "content": "go"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "run", "input": {}}],
        },
        {"role": "user", "content": "and?"},
    ]
    with pytest.raises(anthropic.BadRequestError, match="without `tool_result` blocks"):
        client.messages.create(model=MODEL, max_tokens=10, messages=messages)  # type: ignore[arg-type]


def test_usage_figures(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    usage = TokenUsage(
        input_tokens=1200,
        output_tokens=34,
        cache_read_input_tokens=1000,
        cache_creation_input_tokens=150,
    )
    fake.script(Reply.text("ok", usage=usage), Reply.text("ok", usage=usage))

    with client.messages.stream(**ask()) as stream:
        events = list(stream)
        final = stream.get_final_message()
    start = next(e for e in events if e.type == "message_start")
    delta = next(e for e in events if e.type == "message_delta")
    plain = client.messages.create(**ask())

    assert start.message.usage.output_tokens == 1
    assert delta.usage.output_tokens == 34  # a running total, not an increment
    for got in (final.usage, plain.usage):
        assert got.input_tokens == 1200
        assert got.output_tokens == 34
        assert got.cache_read_input_tokens == 1000
        assert got.cache_creation_input_tokens == 150


def test_overloaded_once_then_success(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    fake.fail_next(
        MESSAGES_PATH,
        529,
        body={"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
    )
    fake.script(Reply.text("made it"))

    started = time.monotonic()
    with client.messages.stream(**ask()) as stream:
        assert stream.get_final_text() == "made it"

    assert time.monotonic() - started < 1
    calls = fake.calls_to(MESSAGES_PATH)
    assert [c.status for c in calls] == [529, 200]
    assert calls[1].headers.get("x-stainless-retry-count") == "1"


def test_overloaded_beyond_retries_raises(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    fake.overloaded(times=2)
    fake.script(Reply.text("never"))
    with pytest.raises(anthropic.OverloadedError):
        client.with_options(max_retries=1).messages.create(**ask())
    assert fake.pending == 1


def test_script_exhausted_raises_loudly(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.InternalServerError, match=NO_REPLY_LEFT):
        client.messages.create(**ask())
    assert len(fake.requests()) == 1  # told the SDK not to retry
    assert fake.errors and NO_REPLY_LEFT in fake.errors[0]
    with pytest.raises(AssertionError, match=NO_REPLY_LEFT):
        fake.assert_done()


def test_schema_invalid_and_malformed_tool_input(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    fake.script(
        Reply.tool_use("read_file", {"limit": 3}),  # `path` is required
        Reply.tool_use("read_file", raw_json='{"path": "a.py", "limit": }'),
    )
    with client.messages.stream(**ask(), tools=[READ_FILE_TOOL]) as stream:
        assert stream.get_final_message().content[0].input == {"limit": 3}
    with (
        pytest.raises(ValueError, match="Unable to parse tool parameter JSON"),
        client.messages.stream(**ask(), tools=[READ_FILE_TOOL]) as stream,
    ):
        stream.get_final_message()


def test_non_streaming_and_scripted_function(
    fake: FakeAnthropic, client: anthropic.Anthropic
) -> None:
    def echo(request: dict[str, Any]) -> Reply:
        return Reply(
            [Text("you said " + request["messages"][-1]["content"])], stop_reason="max_tokens"
        )

    fake.script(
        Reply([ToolUse("run", {"command": "ls"}), ToolUse("run", {"command": "pwd"})]), echo
    )

    first = client.messages.create(**ask())
    second = client.messages.create(**ask("ping"))

    assert [b.input for b in first.content] == [{"command": "ls"}, {"command": "pwd"}]  # type: ignore[union-attr]
    assert first.stop_reason == "tool_use"
    assert second.content[0].text == "you said ping"  # type: ignore[union-attr]
    assert second.stop_reason == "max_tokens"


def test_cancel_mid_stream(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    fake.script(Reply.text("word " * 200, chunk_size=5, delay_between_events=0.01))

    with client.messages.stream(**ask()) as stream:
        first = next(iter(stream.text_stream))
    assert first

    exchange = fake.wait_for(lambda f: f.exchanges and f.exchanges[0].aborted, timeout=2)
    assert exchange
    assert not fake.exchanges[0].completed


def test_error_event_mid_stream(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    fake.script(Reply.text("partial answer", stream_error="overloaded_error"))
    with (
        pytest.raises(anthropic.APIStatusError, match="overloaded_error"),
        client.messages.stream(**ask()) as stream,
    ):
        stream.get_final_message()


def test_auth_is_checked() -> None:
    with (
        FakeAnthropic(api_key="right-key") as fake,
        anthropic.Anthropic(api_key="wrong-key", base_url=fake.url) as wrong,
    ):
        with pytest.raises(anthropic.AuthenticationError, match="invalid x-api-key"):
            wrong.messages.create(**ask())
        status, _, body = _post(fake, ask(), {"anthropic-version": "2023-06-01"})
        assert status == 401
        assert json.loads(body)["error"]["type"] == "authentication_error"


def test_what_claude_code_needs(fake: FakeAnthropic, client: anthropic.Anthropic) -> None:
    """`HEAD /`, system messages under their beta, the title request answered aside."""
    connection = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
    connection.request("HEAD", "/")
    assert connection.getresponse().status == 200
    connection.close()
    messages: Any = [
        {"role": "user", "content": "hi"},
        {"role": "system", "content": "Available agent types: …"},
    ]
    with pytest.raises(anthropic.BadRequestError, match="each message needs a role"):
        client.messages.create(model=MODEL, max_tokens=10, messages=messages)
    fake.script(Reply.text("hello"))
    beta = {"anthropic-beta": "mid-conversation-system-2026-04-07"}
    answer = client.messages.create(
        model=MODEL, max_tokens=10, messages=messages, extra_headers=beta
    )
    assert answer.content[0].type == "text" and answer.content[0].text == "hello"
    title_format = {
        "format": {
            "type": "json_schema",
            "schema": {"type": "object", "properties": {"title": {"type": "string"}},
                       "required": ["title"]},
        }
    }  # fmt: skip
    titled = client.messages.create(
        model=MODEL,
        max_tokens=10,
        messages=[{"role": "user", "content": "name this"}],
        extra_body={"output_config": title_format},
    )
    assert titled.content[0].type == "text"
    assert json.loads(titled.content[0].text) == {"title": "Fake title"}
    assert len(fake.side_requests) == 1
    fake.unauthorized()
    with pytest.raises(anthropic.AuthenticationError):
        client.messages.create(
            model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "x"}]
        )
    fake.assert_done()
