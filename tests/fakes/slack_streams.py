"""Slack's agent methods for the fake Slack API: message streams and assistant threads.

`FakeSlack` installs these (`fake.streams`). They validate arguments the way Slack's method
reference documents them (docs.slack.dev/reference/methods/chat.startStream, …appendStream,
…stopStream, assistant.threads.setStatus/setSuggestedPrompts/setTitle), so a writer that
sends what Slack would refuse fails here:

- `chat.startStream`: `channel` and `thread_ts` (a reply to a person's message); outside a
  DM both `recipient_user_id` and `recipient_team_id` (`missing_recipient_user_id` /
  `missing_recipient_team_id`); `task_display_mode` is `timeline` or `plan`.
- chunks: `markdown_text` (text up to 12,000 characters), `task_update` (id, title, status
  pending/in_progress/complete/error, optional details/output, sources of url elements),
  `plan_update` (title) and `blocks`; task and plan texts up to 256 characters. Anything
  else is `invalid_chunks` with the reasons in `errors`.
- `chat.appendStream` / `chat.stopStream` on a stream that is over (stopped, or older than
  `max_age`, Slack's ~5 minutes) answer `message_not_in_streaming_state`; `chat.update` of
  a message that is still streaming answers `streaming_state_conflict`.
- `chat.stopStream` renders `blocks` (checked like any message's blocks) under the stream.

Rate limits follow the methods' tiers (per method, per workspace, a sliding minute):
429 with `Retry-After` beyond them. `refuse(channel, code)` makes streaming in a channel
fail with one of the real refusal codes, as a workspace or channel type that cannot stream.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slack_sdk.models.messages.chunk import Chunk

from tests.fakes.base import Recorded

if TYPE_CHECKING:
    from tests.fakes.slack import FakeMessage, FakeSlack

MAX_MARKDOWN = 12_000
MAX_TASK_TEXT = 256
MAX_LOADING_MESSAGES = 10
MAX_SUGGESTED_PROMPTS = 4
TASK_STATUSES = ("pending", "in_progress", "complete", "error")
DISPLAY_MODES = ("timeline", "plan")
SESSION_STATUSES = ("active", "processing", "suspended", "closed")
STREAM_MAX_AGE = 300.0  # seconds; Slack ends a stream about five minutes after it starts

# Per minute, from each method's "Rate limits" in Slack's reference: Tier 2 is 20+, Tier 3
# 50+, Tier 4 100+. setStatus has "special" limits; Tier 3 is the cautious reading.
TIERS: dict[str, int] = {
    "chat.startStream": 20,
    "chat.appendStream": 100,
    "chat.stopStream": 20,
    "assistant.threads.setStatus": 50,
    "assistant.threads.setSuggestedPrompts": 100,
    "assistant.threads.setTitle": 50,
}

# What Slack answers when a workspace or conversation cannot stream.
REFUSALS = (
    "channel_type_not_supported",
    "method_not_supported_for_channel_type",
    "enterprise_is_restricted",
    "unknown_method",
    "not_supported",
)


def _error(code: str, **extra: Any) -> Exception:
    from tests.fakes.slack import SlackError

    return SlackError(code, **extra)


@dataclass
class Task:
    """One task card as it stands, and every status it went through."""

    id: str
    title: str
    status: str
    details: str | None = None
    output: str | None = None
    statuses: list[str] = field(default_factory=list)


@dataclass
class FakeStream:
    """A streamed message: what it shows (text, task cards, plan title, final blocks)."""

    channel: str
    ts: str
    thread_ts: str
    recipient_user_id: str | None
    recipient_team_id: str | None
    display_mode: str
    started_at: float
    text: str = ""
    tasks: dict[str, Task] = field(default_factory=dict)
    plan_title: str | None = None
    stopped_at: float | None = None
    blocks: list[dict[str, Any]] | None = None
    appends: int = 0

    @property
    def open(self) -> bool:
        return self.stopped_at is None

    def task_states(self) -> dict[str, str]:
        """Each card's id -> its current status, in the order the cards appeared."""
        return {task_id: task.status for task_id, task in self.tasks.items()}


def _text_errors(chunk: dict[str, Any], name: str, where: str, *, required: bool) -> list[str]:
    value = chunk.get(name)
    if value is None:
        return [f"missing required field: {name} {where}]"] if required else []
    if not isinstance(value, str) or (required and not value.strip()):
        return [f"must be a non-empty string {where}/{name}]"]
    if len(value) > MAX_TASK_TEXT:
        return [f"must be at most {MAX_TASK_TEXT} characters {where}/{name}]"]
    return []


def _task_errors(chunk: dict[str, Any], where: str) -> list[str]:
    errors = _text_errors(chunk, "id", where, required=True)
    errors += _text_errors(chunk, "title", where, required=True)
    if chunk.get("status") not in TASK_STATUSES:
        errors.append(f"must be one of {', '.join(TASK_STATUSES)} {where}/status]")
    errors += _text_errors(chunk, "details", where, required=False)
    errors += _text_errors(chunk, "output", where, required=False)
    sources = chunk.get("sources")
    if sources is not None and not (
        isinstance(sources, list)
        and all(isinstance(s, dict) and s.get("type") == "url" and s.get("url") for s in sources)
    ):
        errors.append(f"must be an array of url elements {where}/sources]")
    return errors


def _markdown_errors(chunk: dict[str, Any], where: str) -> list[str]:
    text = chunk.get("text")
    if not isinstance(text, str) or not text:
        return [f"missing required field: text {where}]"]
    if len(text) > MAX_MARKDOWN:
        return [f"must be at most {MAX_MARKDOWN} characters {where}/text]"]
    return []


def _blocks_chunk_errors(chunk: dict[str, Any], where: str) -> list[str]:
    from tests.fakes.slack import block_errors

    return [f"{e} {where}/blocks]" for e in block_errors(chunk.get("blocks"))]


_CHUNK_CHECKS: dict[str, Callable[[dict[str, Any], str], list[str]]] = {
    "markdown_text": _markdown_errors,
    "task_update": _task_errors,
    "plan_update": lambda c, where: _text_errors(c, "title", where, required=True),
    "blocks": _blocks_chunk_errors,
}


def chunk_errors(chunks: Any) -> list[str]:
    """Why Slack would answer `invalid_chunks` to these chunks (empty: they are fine)."""
    if not isinstance(chunks, list):
        return ["must be an array [json-pointer:/chunks]"]
    errors: list[str] = []
    for i, chunk in enumerate(chunks):
        where = f"[json-pointer:/chunks/{i}"
        check = _CHUNK_CHECKS.get(chunk.get("type")) if isinstance(chunk, dict) else None
        model = Chunk.parse(chunk) if check is not None else None  # slack-sdk's chunk models
        if check is None or model is None:
            errors.append(f"unknown chunk type {where}/type]")
            continue
        errors.extend(check(chunk, where))
        errors.extend(
            f"unknown field {key} {where}/{key}]" for key in set(chunk) - model.attributes
        )
    return errors


class RateLimits:
    """A sliding window of accepted calls per method; beyond the tier's count: a 429."""

    def __init__(self, per_minute: dict[str, int], window: float = 60.0) -> None:
        self.limits = {name: (count, window) for name, count in per_minute.items()}
        self._accepted: dict[str, deque[float]] = {}

    def set(self, method: str, calls: int | None, per: float = 60.0) -> None:
        if calls is None:
            self.limits.pop(method, None)
        else:
            self.limits[method] = (calls, per)

    def check(self, method: str, at: float) -> int | None:
        """Seconds to wait (Retry-After) if this call is over the limit, else None (counted)."""
        limit = self.limits.get(method)
        if limit is None:
            return None
        calls, per = limit
        accepted = self._accepted.setdefault(method, deque())
        while accepted and accepted[0] <= at - per:
            accepted.popleft()
        if len(accepted) >= calls:
            return max(1, math.ceil(accepted[0] + per - at))
        accepted.append(at)
        return None


class SlackStreams:
    """The streaming and assistant-thread methods of one `FakeSlack`, and their state."""

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self.max_age = STREAM_MAX_AGE
        self.rates = RateLimits(TIERS)
        self._refused: dict[str, str] = {}
        self._streams: dict[tuple[str, str], FakeStream] = {}
        self.statuses: list[dict[str, Any]] = []
        """Every accepted setStatus, in order (`status` "" clears it)."""
        self.suggested_prompts: list[dict[str, Any]] = []
        self.titles: list[dict[str, Any]] = []
        for name, handler in {
            "chat.startStream": self._start,
            "chat.appendStream": self._append,
            "chat.stopStream": self._stop,
            "assistant.threads.setStatus": self._set_status,
            "assistant.threads.setSuggestedPrompts": self._set_prompts,
            "assistant.threads.setTitle": self._set_title,
        }.items():
            fake.add_method(name, self._limited(name, handler))

    # -- set-up -------------------------------------------------------------------------
    def refuse(self, channel: str, code: str = "channel_type_not_supported") -> None:
        """Make `chat.startStream` in `channel` fail with `code` (e.g. one of `REFUSALS`)."""
        self._refused[channel] = code

    def allow(self, channel: str) -> None:
        self._refused.pop(channel, None)

    def age(self, seconds: float) -> None:
        """Slack's clock moves on: every stream is `seconds` older, so a test ends streams by
        their lifetime (`max_age`) exactly when it says, however slow the machine is."""
        with self.fake._state:
            for stream in self._streams.values():
                stream.started_at -= seconds

    def limit(self, method: str, calls: int | None, per: float = 60.0) -> None:
        """Allow `calls` of `method` per `per` seconds (None: no limit)."""
        self.rates.set(method, calls, per)

    # -- queries ------------------------------------------------------------------------
    def streams(self, channel: str | None = None, thread_ts: str | None = None) -> list[FakeStream]:
        """Streams in the order they started."""
        with self.fake._state:
            found = [
                s
                for s in self._streams.values()
                if (channel is None or s.channel == channel)
                and (thread_ts is None or s.thread_ts == thread_ts)
            ]
        return sorted(found, key=lambda s: s.ts)

    def stream(self, channel: str, ts: str) -> FakeStream:
        with self.fake._state:
            return self._streams[(channel, ts)]

    def is_streaming(self, channel: str, ts: str) -> bool:
        with self.fake._state:
            stream = self._streams.get((channel, ts))
            return stream is not None and self._alive(stream, time.monotonic())

    # -- internals ----------------------------------------------------------------------
    def _limited(
        self, name: str, handler: Callable[[dict[str, Any], Recorded], dict[str, Any]]
    ) -> Callable[[dict[str, Any], Recorded], dict[str, Any]]:
        def serve(params: dict[str, Any], call: Recorded) -> dict[str, Any]:
            with self.fake._state:
                wait = self.rates.check(name, call.at)
            if wait is not None:
                from tests.fakes.slack import ratelimited

                raise ratelimited(wait)
            return handler(params, call)

        return serve

    def _alive(self, stream: FakeStream, now: float) -> bool:
        if stream.open and now - stream.started_at > self.max_age:
            stream.stopped_at = stream.started_at + self.max_age  # Slack ended it
        return stream.open

    def _open_stream(self, params: dict[str, Any], call: Recorded) -> FakeStream:
        channel = self.fake._channel(params)
        with self.fake._state:
            stream = self._streams.get((channel, str(params.get("ts") or "")))
            if stream is None:
                raise _error("message_not_found")
            if not self._alive(stream, call.at):
                raise _error("message_not_in_streaming_state")
            return stream

    def _apply(self, stream: FakeStream, params: dict[str, Any]) -> None:
        """Check, then show, what a start/append/stop call adds to the stream."""
        markdown = params.get("markdown_text")
        if markdown is not None and (not isinstance(markdown, str) or len(markdown) > MAX_MARKDOWN):
            raise _error("msg_too_long")
        chunks = params.get("chunks")
        if chunks is not None:
            errors = chunk_errors(chunks)
            if errors:
                raise _error("invalid_chunks", errors=errors)
        if markdown:
            stream.text += markdown
        for chunk in chunks or []:
            self._show(stream, chunk)

    @staticmethod
    def _show(stream: FakeStream, chunk: dict[str, Any]) -> None:
        kind = chunk["type"]
        if kind == "markdown_text":
            stream.text += chunk["text"]
        elif kind == "plan_update":
            stream.plan_title = chunk["title"]
        elif kind == "task_update":
            task = stream.tasks.get(chunk["id"])
            if task is None:
                task = stream.tasks[chunk["id"]] = Task(chunk["id"], chunk["title"], "")
            task.title, task.status = chunk["title"], chunk["status"]
            task.details = chunk.get("details", task.details)
            task.output = chunk.get("output", task.output)
            task.statuses.append(chunk["status"])

    def _start(self, params: dict[str, Any], call: Recorded) -> dict[str, Any]:
        from tests.fakes.slack import FakeMessage

        channel = self.fake._channel(params)
        thread_ts = params.get("thread_ts")
        if not thread_ts:
            raise _error("invalid_arguments", errors=["missing required field: thread_ts"])
        if channel in self._refused:
            raise _error(self._refused[channel])
        is_dm = channel.startswith("D")
        if not is_dm and not params.get("recipient_user_id"):
            raise _error("missing_recipient_user_id")
        if not is_dm and not params.get("recipient_team_id"):
            raise _error("missing_recipient_team_id")
        mode = params.get("task_display_mode", "timeline")
        if mode not in DISPLAY_MODES:
            raise _error("invalid_arguments", errors=["task_display_mode must be timeline or plan"])
        with self.fake._state:
            parent = self.fake._messages.get((channel, str(thread_ts)))
            if parent is None or parent.deleted:
                raise _error("thread_not_found")
            stream = FakeStream(
                channel=channel,
                ts=self.fake._next_ts(),
                thread_ts=str(parent.thread_ts or parent.ts),
                recipient_user_id=params.get("recipient_user_id"),
                recipient_team_id=params.get("recipient_team_id"),
                display_mode=str(mode),
                started_at=call.at,
            )
            self._apply(stream, params)
            message = FakeMessage(
                channel=channel,
                ts=stream.ts,
                text=stream.text,
                thread_ts=stream.thread_ts,
                user=self.fake.bot_user_id,
                bot_id=self.fake.bot_id,
                params=params,
                posted_at=call.at,
            )
            message.stream = stream
            self.fake._messages[(channel, stream.ts)] = message
            self._streams[(channel, stream.ts)] = stream
        return {"channel": channel, "ts": stream.ts}

    def _message(self, stream: FakeStream) -> FakeMessage:
        return self.fake._messages[(stream.channel, stream.ts)]

    def _append(self, params: dict[str, Any], call: Recorded) -> dict[str, Any]:
        if not params.get("markdown_text") and not params.get("chunks"):
            raise _error("no_text")
        with self.fake._state:
            stream = self._open_stream(params, call)
            self._apply(stream, params)
            stream.appends += 1
            self._message(stream).text = stream.text
        return {"channel": stream.channel, "ts": stream.ts}

    def _stop(self, params: dict[str, Any], call: Recorded) -> dict[str, Any]:
        from tests.fakes.slack import block_errors

        blocks = params.get("blocks")
        if blocks not in (None, "") and block_errors(blocks):
            raise _error("invalid_blocks", errors=block_errors(blocks))
        status = params.get("session_status")
        if status is not None and status not in SESSION_STATUSES:
            raise _error("invalid_arguments", errors=["unknown session_status"])
        with self.fake._state:
            stream = self._open_stream(params, call)
            self._apply(stream, params)
            stream.blocks = blocks or None
            stream.stopped_at = call.at
            message = self._message(stream)
            message.text, message.blocks = stream.text, stream.blocks
            return {
                "channel": stream.channel,
                "ts": stream.ts,
                "message": message.to_api(self.fake.team_id),
            }

    def _thread(self, params: dict[str, Any], *, required: bool = True) -> tuple[str, str | None]:
        channel = params.get("channel_id")
        if not channel:
            raise _error("channel_not_found")
        thread_ts = params.get("thread_ts")
        if not thread_ts:
            if required:
                raise _error("invalid_thread_ts")
            return str(channel), None
        with self.fake._state:
            if (str(channel), str(thread_ts)) not in self.fake._messages:
                raise _error("invalid_thread_ts")
        return str(channel), str(thread_ts)

    def _set_status(self, params: dict[str, Any], call: Recorded) -> dict[str, Any]:
        channel, thread_ts = self._thread(params)
        if "status" not in params or not isinstance(params["status"], str):
            raise _error("invalid_arguments", errors=["missing required field: status"])
        loading = params.get("loading_messages")
        if loading is not None and (
            not isinstance(loading, list) or len(loading) > MAX_LOADING_MESSAGES
        ):
            raise _error("invalid_arguments", errors=["loading_messages: at most 10 strings"])
        with self.fake._state:
            self.statuses.append(
                {
                    "channel": channel,
                    "thread_ts": thread_ts,
                    "status": params["status"],
                    "at": call.at,
                }
            )
        return {}

    def _set_prompts(self, params: dict[str, Any], call: Recorded) -> dict[str, Any]:
        channel, thread_ts = self._thread(params, required=False)
        prompts = params.get("prompts")
        if (
            not isinstance(prompts, list)
            or not 0 < len(prompts) <= MAX_SUGGESTED_PROMPTS
            or not all(isinstance(p, dict) and p.get("title") and p.get("message") for p in prompts)
        ):
            raise _error("invalid_arguments", errors=["prompts: 1 to 4 with title and message"])
        with self.fake._state:
            self.suggested_prompts.append(
                {
                    "channel": channel,
                    "thread_ts": thread_ts,
                    "title": params.get("title"),
                    "prompts": prompts,
                }
            )
        return {}

    def _set_title(self, params: dict[str, Any], call: Recorded) -> dict[str, Any]:
        channel, thread_ts = self._thread(params)
        title = params.get("title")
        if not isinstance(title, str) or not title.strip():
            raise _error("invalid_arguments", errors=["missing required field: title"])
        with self.fake._state:
            self.titles.append({"channel": channel, "thread_ts": thread_ts, "title": title})
        return {}
