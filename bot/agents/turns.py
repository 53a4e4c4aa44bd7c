"""One model turn: a streamed Messages API call, read event by event.

The SDK's own stream accumulator raises on a tool input that is not valid JSON, which
would lose the whole turn; reading the raw events here keeps the turn and lets the loop
answer that call with an error result instead. It also lets the model's prose go out as
soon as it is complete (before the tool calls that follow it), and lets cancel close the
HTTP stream mid-response: a watcher thread closes it as soon as the run must stop, even
while the model is still thinking.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import cast

from anthropic import Stream
from anthropic.types import (
    ContentBlock,
    ContentBlockParam,
    MessageDeltaUsage,
    RawContentBlockDelta,
    RawMessageStreamEvent,
    ThinkingBlock,
    ToolUseBlock,
    Usage,
)

from bot.agents.tools import ToolCall
from bot.processes.control import RunControl
from bot.sessions.events import EventKind, ProgressEvent

WATCH_INTERVAL = 0.1


@dataclass
class Turn:
    """What one response said: blocks to send back, tool calls, stop reason and usage."""

    model: str
    usage: Usage
    content: list[ContentBlockParam] = field(default_factory=list)
    calls: list[ToolCall] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    stop_reason: str | None = None

    @property
    def text(self) -> str:
        return "\n\n".join(t.strip() for t in self.texts if t.strip())


@dataclass
class _Block:
    start: ContentBlock  # as `content_block_start` announced it; the deltas fill it in
    parts: list[str] = field(default_factory=list)
    signature: str | None = None


class Stopped(Exception):
    """The run was told to stop while the response was streaming."""


class StreamCut(Exception):
    """The response ended without `message_stop`: a dropped connection, worth a retry."""


@contextmanager
def close_on_stop(stream: Stream[RawMessageStreamEvent], control: RunControl) -> Iterator[None]:
    """Close the HTTP stream from a watcher thread the moment the run must stop."""
    finished = threading.Event()

    def watch() -> None:
        while not finished.is_set():
            if control.should_stop():
                stream.close()
                return
            control.cancel_event.wait(WATCH_INTERVAL)

    watcher = threading.Thread(target=watch, name="repobox-stream-watch", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        finished.set()


class _Accumulator:
    """Builds a `Turn` from raw stream events, holding prose until it is known to be
    followed by a tool call (the final answer is the run's summary, not a step)."""

    def __init__(self) -> None:
        self.turn: Turn | None = None
        self.blocks: dict[int, _Block] = {}
        self.pending_text: list[str] = []
        self.complete = False

    def feed(self, event: RawMessageStreamEvent) -> ProgressEvent | None:
        if event.type == "message_start":
            usage = event.message.usage.model_copy()
            self.turn = Turn(model=event.message.model, usage=usage)
            return None
        turn = self.turn
        if turn is None:
            return None
        if event.type == "content_block_start":
            self.blocks[event.index] = _Block(event.content_block)
            if event.content_block.type == "tool_use" and self.pending_text:
                return _text_event(self.pending_text)
        elif event.type == "content_block_delta":
            _delta(self.blocks[event.index], event.delta)
        elif event.type == "content_block_stop":
            _finish(turn, self.blocks.pop(event.index), self.pending_text)
        elif event.type == "message_delta":
            turn.stop_reason = event.delta.stop_reason
            _update_usage(turn.usage, event.usage)
        elif event.type == "message_stop":
            self.complete = True
        return None


def read_turn(
    stream: Stream[RawMessageStreamEvent], control: RunControl
) -> Generator[ProgressEvent, None, Turn]:
    """Accumulate a streamed response; yield the model's text before the calls it precedes."""
    acc = _Accumulator()
    with close_on_stop(stream, control):
        try:
            for event in stream:
                if control.should_stop():
                    raise Stopped
                if (said := acc.feed(event)) is not None:
                    yield said
        except Exception:
            if control.should_stop():
                raise Stopped from None
            raise
    if control.should_stop():
        raise Stopped
    if acc.turn is None or not acc.complete:
        raise StreamCut
    if acc.pending_text and acc.turn.stop_reason == "tool_use":
        yield _text_event(acc.pending_text)
    return acc.turn


def _text_event(pending: list[str]) -> ProgressEvent:
    text = "\n\n".join(pending)
    pending.clear()
    return ProgressEvent(EventKind.TEXT, text)


def _delta(block: _Block, delta: RawContentBlockDelta) -> None:
    if delta.type == "text_delta":
        block.parts.append(delta.text)
    elif delta.type == "input_json_delta":
        block.parts.append(delta.partial_json)
    elif delta.type == "thinking_delta":
        block.parts.append(delta.thinking)
    elif delta.type == "signature_delta":
        block.signature = delta.signature


def _finish(turn: Turn, block: _Block, pending_text: list[str]) -> None:
    """Close a block: keep it for the next request, and note text and tool calls."""
    joined, start = "".join(block.parts), block.start
    if start.type == "text":
        turn.content.append({"type": "text", "text": joined})
        turn.texts.append(joined)
        if joined.strip():
            pending_text.append(joined.strip())
    elif isinstance(start, ToolUseBlock):
        arguments, problem = _parse_input(joined)
        turn.content.append(
            {"type": "tool_use", "id": start.id, "name": start.name, "input": arguments}
        )
        turn.calls.append(ToolCall(start.id, start.name, arguments, problem))
    elif isinstance(start, ThinkingBlock):
        signature = block.signature or start.signature or ""
        thinking = start.thinking + joined
        turn.content.append({"type": "thinking", "thinking": thinking, "signature": signature})
    else:  # redacted thinking and anything newer: sent back exactly as it came
        came = start.to_dict(mode="json").items()
        turn.content.append(cast(ContentBlockParam, {k: v for k, v in came if v is not None}))


def _parse_input(raw: str) -> tuple[dict[str, object], str | None]:
    if not raw.strip():
        return {}, None
    try:
        value = json.loads(raw)
    except ValueError as error:
        return {}, str(error)
    if not isinstance(value, dict):
        return {}, "the input must be a JSON object"
    return value, None


def _update_usage(usage: Usage, delta: MessageDeltaUsage) -> None:
    """`message_delta` usage is a running total: overwrite, keeping what it leaves out."""
    usage.output_tokens = delta.output_tokens
    for name in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"):
        value = getattr(delta, name, None)
        if value is not None:
            setattr(usage, name, value)
