"""A fake Anthropic Messages API that plays scripted replies over the real wire protocol.

The agent's tool loop must be tested against the real `anthropic` SDK — its SSE parser, its
stream accumulator (`messages.stream(...)`, `get_final_message()`), its retries — so this
fake speaks the API's HTTP and Server-Sent Events format instead of patching the SDK.

A test queues replies; each request to `POST /v1/messages` takes the next one:

    fake.script(
        Reply.tool_use("read_file", {"path": "a.py"}),
        Reply([Text("Fixed it."), ToolUse("run", {"command": "pytest"})]),
        Reply.text("done", usage=TokenUsage(120, 8, cache_read_input_tokens=100)),
    )

Requests are checked the way the API checks them (auth header, required fields, every
`tool_use` answered by a `tool_result` in the next message, at most 4 cache breakpoints), so
an agent that builds a bad conversation fails here as it would in production.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import string
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from .base import FakeServer, Recorded

MESSAGES_PATH = "/v1/messages"
COUNT_TOKENS_PATH = "/v1/messages/count_tokens"
NO_REPLY_LEFT = "FakeAnthropic: no scripted reply left"
MAX_CACHE_BREAKPOINTS = 4
SYSTEM_MESSAGES_BETA = "mid-conversation-system-"

StopReason = Literal["end_turn", "tool_use", "max_tokens", "stop_sequence", "pause_turn", "refusal"]

# The API's error `type` for each status, as documented for the Messages API.
ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
ERROR_MESSAGES: dict[str, str] = {
    "overloaded_error": "Overloaded",
    "rate_limit_error": "Number of request tokens has exceeded your per-minute rate limit",
    "api_error": "Internal server error",
    "timeout_error": "Request timeout",
}

_ALPHABET = string.ascii_letters + string.digits


def _new_id(prefix: str) -> str:
    """An id shaped like the API's (`toolu_01…`, `msg_01…`, `req_01…`)."""
    return prefix + "01" + "".join(secrets.choice(_ALPHABET) for _ in range(22))


def new_tool_use_id() -> str:
    return _new_id("toolu_")


def error_body(
    status: int, message: str | None = None, error_type: str | None = None
) -> dict[str, Any]:
    """The API's error shape, so the SDK maps it to the right exception with a useful message."""
    kind = error_type or ERROR_TYPES.get(status, "api_error")
    return {
        "type": "error",
        "error": {"type": kind, "message": message or ERROR_MESSAGES.get(kind, kind)},
        "request_id": _new_id("req_"),
    }


# -- what a test scripts ------------------------------------------------------------------------


@dataclass
class Text:
    """A text content block; streamed as several `text_delta` events."""

    text: str


@dataclass
class ToolUse:
    """A tool_use content block; its input is streamed as several `input_json_delta` events.

    `input` may deliberately break the tool's schema (a missing required key). `raw_json` is
    streamed verbatim instead of `input`, for input that is truncated or not JSON at all; in a
    non-streaming reply it becomes `input` if it parses to an object, else `{}`. The `id` is
    fixed at construction so a test can match the agent's `tool_result` against it.
    """

    name: str
    input: dict[str, Any] = field(default_factory=dict)
    raw_json: str | None = None
    id: str = field(default_factory=new_tool_use_id)

    def json_text(self) -> str:
        return self.raw_json if self.raw_json is not None else json.dumps(self.input)

    def final_input(self) -> dict[str, Any]:
        if self.raw_json is None:
            return self.input
        try:
            parsed = json.loads(self.raw_json)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}


Block = Text | ToolUse


@dataclass(frozen=True)
class TokenUsage:
    """Token figures reported for one reply (the final, cumulative totals)."""

    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0


@dataclass
class Reply:
    """One model turn: content blocks, a stop reason, usage, and how to stream it.

    `stop_reason` defaults to `tool_use` when a block is a `ToolUse`, else `end_turn`.
    `usage` defaults to rough estimates from the request and reply sizes.
    `delay_between_events` (seconds) slows the stream so a test can cancel mid-run.
    `think` (seconds) holds the answer back before its first byte, as a model's time to
    first token does (the scale bench's think time).
    `stream_error` (an error type such as `overloaded_error`) breaks the stream off after
    the first block's deltas with an `error` event, as the API does when it fails mid-stream.
    """

    blocks: Sequence[Block | str]
    stop_reason: StopReason | None = None
    usage: TokenUsage | None = None
    delay_between_events: float = 0.0
    think: float = 0.0
    stream_error: str | None = None
    model: str | None = None
    chunk_size: int = 12
    content: list[Block] = field(init=False)

    def __post_init__(self) -> None:
        self.content = [Text(b) if isinstance(b, str) else b for b in self.blocks]
        if self.stop_reason is None:
            has_tool = any(isinstance(b, ToolUse) for b in self.content)
            self.stop_reason = "tool_use" if has_tool else "end_turn"

    @classmethod
    def text(cls, text: str, **options: Any) -> Reply:
        """A plain text answer (stop_reason `end_turn` unless given)."""
        return cls([Text(text)], **options)

    @classmethod
    def tool_use(
        cls,
        name: str,
        input: dict[str, Any] | None = None,
        *,
        text: str | None = None,
        raw_json: str | None = None,
        id: str | None = None,
        **options: Any,
    ) -> Reply:
        """One tool call, optionally preceded by a text block (stop_reason `tool_use`)."""
        call = ToolUse(name, dict(input or {}), raw_json=raw_json)
        if id is not None:
            call.id = id
        blocks: list[Block] = [Text(text)] if text else []
        return cls([*blocks, call], **options)

    @property
    def tool_uses(self) -> list[ToolUse]:
        return [b for b in self.content if isinstance(b, ToolUse)]


Scripted = Reply | Callable[[dict[str, Any]], Reply]


@dataclass
class Exchange:
    """One answered request: what was asked, what was played, and whether it got through."""

    request: dict[str, Any]
    reply: Reply
    stream: bool
    completed: bool = False
    aborted: bool = False  # the client hung up mid-stream (a cancelled run)


# -- wire format ---------------------------------------------------------------------------------


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), max(1, size))]


def _block_json(block: Block) -> dict[str, Any]:
    if isinstance(block, Text):
        return {"type": "text", "text": block.text, "citations": None}
    return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.final_input()}


def estimate_input_tokens(request: dict[str, Any]) -> int:
    """About four characters a token, like the API's rule of thumb; only needs to be plausible."""
    sized = {k: request.get(k) for k in ("system", "tools", "messages")}
    return max(1, len(json.dumps(sized, default=str)) // 4)


def _usage_for(reply: Reply, request: dict[str, Any]) -> TokenUsage:
    if reply.usage is not None:
        return reply.usage
    out = sum(len(b.text if isinstance(b, Text) else b.json_text()) for b in reply.content)
    return TokenUsage(estimate_input_tokens(request), max(1, out // 4))


def _usage_json(usage: TokenUsage, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_tokens,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": usage.cache_creation_input_tokens,
            "ephemeral_1h_input_tokens": 0,
        },
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def message_json(reply: Reply, request: dict[str, Any]) -> dict[str, Any]:
    """The non-streaming response body."""
    usage = _usage_for(reply, request)
    return {
        "id": _new_id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": reply.model or request.get("model", "claude-fake"),
        "content": [_block_json(b) for b in reply.content],
        "stop_reason": reply.stop_reason,
        "stop_sequence": None,
        "usage": _usage_json(usage, usage.output_tokens),
    }


def stream_events(reply: Reply, request: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The SSE events for one reply, in the order and shape the real API sends them."""
    usage = _usage_for(reply, request)
    start = message_json(reply, request)
    start.update(content=[], stop_reason=None, stop_sequence=None)
    # message_start carries the input figures and a token or so of output; message_delta
    # then carries the cumulative totals (a running total, not an increment).
    start["usage"] = _usage_json(usage, min(1, usage.output_tokens))
    yield "message_start", {"type": "message_start", "message": start}
    if not reply.content:
        yield "ping", {"type": "ping"}
    for index, block in enumerate(reply.content):
        if isinstance(block, Text):
            opening: dict[str, Any] = {"type": "text", "text": ""}
        else:
            opening = {"type": "tool_use", "id": block.id, "name": block.name, "input": {}}
        yield (
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": opening},
        )
        if index == 0:
            yield "ping", {"type": "ping"}
        if isinstance(block, Text):
            for piece in _chunks(block.text, reply.chunk_size):
                delta: dict[str, Any] = {"type": "text_delta", "text": piece}
                yield "content_block_delta", _delta(index, delta)
        else:
            # The API opens every tool input with an empty partial_json, then the pieces.
            for piece in ["", *_chunks(block.json_text(), reply.chunk_size)]:
                delta = {"type": "input_json_delta", "partial_json": piece}
                yield "content_block_delta", _delta(index, delta)
        if reply.stream_error and index == 0:
            yield "error", error_body(500, error_type=reply.stream_error)
            return
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    if reply.stream_error and not reply.content:
        yield "error", error_body(500, error_type=reply.stream_error)
        return
    totals = _usage_json(usage, usage.output_tokens)
    del totals["cache_creation"], totals["service_tier"]
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {
                "stop_reason": reply.stop_reason,
                "stop_sequence": None,
                "stop_details": None,
            },
            "usage": totals,
        },
    )
    yield "message_stop", {"type": "message_stop"}


def _delta(index: int, delta: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": delta}


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def side_reply(request: dict[str, Any]) -> Reply | None:
    """The answer to a request outside the agent's loop: no tools and a JSON-schema output
    format (Claude Code asks for its session's title this way). An object with every
    required string property filled in, so the client is content."""
    format_ = (request.get("output_config") or {}).get("format") or {}
    if request.get("tools") or format_.get("type") != "json_schema":
        return None
    schema = format_.get("schema") or {}
    answer = {name: "Fake title" for name in schema.get("required") or []}
    return Reply.text(json.dumps(answer))


# -- request checks ------------------------------------------------------------------------------


def _blocks(message: dict[str, Any] | None) -> list[dict[str, Any]]:
    content = (message or {}).get("content")
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


def _count_cache_marks(value: Any) -> int:
    if isinstance(value, dict):
        own = 1 if value.get("cache_control") else 0
        return own + sum(_count_cache_marks(v) for k, v in value.items() if k != "cache_control")
    if isinstance(value, list):
        return sum(_count_cache_marks(v) for v in value)
    return 0


def request_problem(
    body: dict[str, Any], betas: frozenset[str] = frozenset(), *, counting: bool = False
) -> str | None:
    """What the real API would reject this request for (400), or None.

    With the `mid-conversation-system-…` beta (Claude Code sends it), `system` messages may
    sit between the others; the pairing rules apply to the conversation without them.
    """
    system_ok = any(beta.startswith(SYSTEM_MESSAGES_BETA) for beta in betas)
    problem = _shape_problem(body, system_ok, counting)
    if problem is not None:
        return problem
    talk = [m for m in body["messages"] if m["role"] != "system"]
    return _tool_pairing_problem(talk) or _cache_problem(body)


def _shape_problem(
    body: dict[str, Any], system_ok: bool = False, counting: bool = False
) -> str | None:
    """`counting`: /v1/messages/count_tokens, which takes no `max_tokens`."""
    for key in ("model", "messages") if counting else ("model", "max_tokens", "messages"):
        if key not in body:
            return f"{key}: Field required"
    messages = body["messages"]
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    roles = ("user", "assistant", "system") if system_ok else ("user", "assistant")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in roles:
            return f"messages.{i}: each message needs a role of 'user' or 'assistant'"
    return None


def _tool_pairing_problem(messages: list[dict[str, Any]]) -> str | None:
    """Every tool_use must be answered in the very next message, and nothing else answered."""
    for i, message in enumerate(messages):
        previous = messages[i - 1] if i > 0 else None
        asked: set[Any] = set()
        if previous is not None and previous["role"] == "assistant":
            asked = {b.get("id") for b in _blocks(previous) if b.get("type") == "tool_use"}
        for j, block in enumerate(_blocks(message)):
            if block.get("type") == "tool_result" and block.get("tool_use_id") not in asked:
                return (
                    f"messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` "
                    f"blocks: {block.get('tool_use_id')}. Each `tool_result` block must have a "
                    "corresponding `tool_use` block in the previous message."
                )
        if message["role"] != "assistant":
            continue
        calls = [b.get("id") for b in _blocks(message) if b.get("type") == "tool_use"]
        following = messages[i + 1] if i + 1 < len(messages) else None
        answered: set[Any] = set()
        if following is not None and following["role"] == "user":
            results = [b for b in _blocks(following) if b.get("type") == "tool_result"]
            answered = {b.get("tool_use_id") for b in results}
        missing = [str(c) for c in calls if c not in answered]
        if missing:
            return (
                f"messages.{i}: `tool_use` ids were found without `tool_result` blocks "
                f"immediately after: {', '.join(missing)}. Each `tool_use` block must have a "
                "corresponding `tool_result` block in the next message."
            )
    return None


def _cache_problem(body: dict[str, Any]) -> str | None:
    marks = sum(_count_cache_marks(body.get(k)) for k in ("system", "tools", "messages"))
    if marks > MAX_CACHE_BREAKPOINTS:
        return (
            f"A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. "
            f"Found {marks}."
        )
    return None


# -- the server -----------------------------------------------------------------------------------


class FakeAnthropic(FakeServer):
    """`POST /v1/messages` (plain and streamed) and `POST /v1/messages/count_tokens`.

    `api_key`: when set, requests must carry exactly this key; otherwise any key will do.
    `strict`: reject requests the real API would reject (see `request_problem`).
    """

    def __init__(self, api_key: str | None = None, *, strict: bool = True) -> None:
        super().__init__()
        self.api_key = api_key
        self.strict = strict
        self.errors: list[str] = []
        self.exchanges: list[Exchange] = []
        self._script: deque[Scripted] = deque()
        self._by_model: dict[str, deque[Scripted]] = {}
        self.side_requests: list[dict[str, Any]] = []
        self.route("POST", MESSAGES_PATH, self._messages)
        self.route("POST", COUNT_TOKENS_PATH, self._count_tokens)
        self.route("HEAD", "/", self._head)

    # -- scripting ----------------------------------------------------------------------------
    def script(self, *replies: Scripted) -> FakeAnthropic:
        """Queue replies, played in order. A callable gets the request body and returns a Reply."""
        with self._lock:
            self._script.extend(replies)
        return self

    def script_for(self, model: str, *replies: Scripted) -> FakeAnthropic:
        """Queue replies for requests naming `model` only, played in order, before the common
        script: runs on several models at once (a comparison) each follow their own."""
        with self._lock:
            self._by_model.setdefault(model, deque()).extend(replies)
        return self

    @property
    def pending(self) -> int:
        """Scripted replies not played yet."""
        with self._lock:
            return len(self._script) + sum(len(q) for q in self._by_model.values())

    def fail_next(
        self,
        path: str,
        status: int,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        """As the base, with the API's error shape and `retry-after-ms: 1` by default.

        The SDK backs off 0.5 s and more unless the server names a wait, so the default keeps
        retry tests fast; pass your own `retry-after`/`x-should-retry` headers to override.
        """
        merged = {"retry-after-ms": "1", "request-id": _new_id("req_"), **(headers or {})}
        payload = body if body is not None else error_body(status)
        super().fail_next(path, status, times, merged, payload)

    def overloaded(self, times: int = 1) -> None:
        """The next `times` message requests answer 529 overloaded_error (the SDK retries)."""
        self.fail_next(MESSAGES_PATH, 529, times)

    def unauthorized(self, times: int = 1) -> None:
        """The next `times` message requests answer 401, as for a revoked key."""
        self.fail_next(MESSAGES_PATH, 401, times, body=error_body(401, "invalid x-api-key"))

    # -- queries for tests ------------------------------------------------------------------------
    def requests(self) -> list[dict[str, Any]]:
        """JSON bodies of every `POST /v1/messages`, in order (retries and failures included)."""
        with self._lock:
            calls = [c for c in self.calls if c.method == "POST" and c.path == MESSAGES_PATH]
        return [c.json for c in calls]

    def last_request(self) -> dict[str, Any]:
        found = self.requests()
        if not found:
            raise AssertionError("FakeAnthropic: no /v1/messages request received")
        return found[-1]

    def tool_results(self, request: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The `tool_result` blocks of the last message of `request` (default: the last one)."""
        body = request if request is not None else self.last_request()
        return [b for b in _blocks(body["messages"][-1]) if b.get("type") == "tool_result"]

    def assert_done(self) -> None:
        """Every scripted reply was played and nothing went wrong: call at the end of a test."""
        problems = list(self.errors)
        if self.pending:
            problems.append(f"{self.pending} scripted repl(ies) never requested")
        if problems:
            raise AssertionError("FakeAnthropic: " + "; ".join(problems))

    # -- handlers ---------------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        return {"request-id": _new_id("req_"), "anthropic-organization-id": "fake-org"}

    def _error(
        self, status: int, message: str, headers: dict[str, str] | None = None
    ) -> web.Response:
        merged = {**self._headers(), **(headers or {})}
        return web.json_response(error_body(status, message), status=status, headers=merged)

    def _refusal(self, recorded: Recorded) -> web.Response | None:
        """401/400 for a request the API would refuse before looking at the body."""
        headers = {k.lower(): v for k, v in recorded.headers.items()}
        bearer = headers.get("authorization", "")
        key = headers.get("x-api-key") or bearer.removeprefix("Bearer ").strip() or None
        if key is None:
            return self._error(401, "x-api-key header is required")
        if self.api_key is not None and key != self.api_key:
            return self._error(401, "invalid x-api-key")
        if "anthropic-version" not in headers:
            return self._error(400, "anthropic-version: header is required")
        return None

    def _parse(self, recorded: Recorded, counting: bool = False) -> dict[str, Any] | web.Response:
        try:
            body = recorded.json
        except ValueError:
            return self._error(400, "The request body is not valid JSON.")
        if not isinstance(body, dict):
            return self._error(400, "The request body must be a JSON object.")
        headers = {k.lower(): v for k, v in recorded.headers.items()}
        betas = frozenset(b.strip() for b in headers.get("anthropic-beta", "").split(","))
        problem = request_problem(body, betas, counting=counting) if self.strict else None
        if problem is not None:
            return self._error(400, problem)
        return body

    async def _head(self, request: web.Request, recorded: Recorded) -> web.StreamResponse:
        """Claude Code checks that its base URL answers before it starts."""
        return web.Response(status=200, headers=self._headers())

    async def _count_tokens(self, request: web.Request, recorded: Recorded) -> web.StreamResponse:
        refused = self._refusal(recorded)
        if refused is not None:
            return refused
        body = self._parse(recorded, counting=True)
        if isinstance(body, web.Response):
            return body
        return web.json_response(
            {"input_tokens": estimate_input_tokens(body)}, headers=self._headers()
        )

    async def _messages(self, request: web.Request, recorded: Recorded) -> web.StreamResponse:
        refused = self._refusal(recorded)
        if refused is not None:
            return refused
        body = self._parse(recorded)
        if isinstance(body, web.Response):
            return body
        side = side_reply(body)
        if side is not None:  # e.g. Claude Code naming its session: not part of the script
            with self._lock:
                self.side_requests.append(body)
            exchange = Exchange(body, side, stream=bool(body.get("stream")))
            if not exchange.stream:
                return web.json_response(message_json(side, body), headers=self._headers())
            return await self._stream(request, recorded, exchange)
        with self._lock:
            own = self._by_model.get(str(body.get("model")))
            scripted = own.popleft() if own else self._script.popleft() if self._script else None
        # A script mistake is the test's bug: answer so the SDK raises at once, never retries.
        no_retry = {"x-should-retry": "false"}
        if scripted is None:
            message = f"{NO_REPLY_LEFT} (request #{len(self.requests())} to {MESSAGES_PATH})"
            self.errors.append(message)
            return self._error(500, message, no_retry)
        try:
            reply = scripted(body) if callable(scripted) else scripted
        except Exception as exc:
            message = f"FakeAnthropic: scripted reply function failed: {exc!r}"
            self.errors.append(message)
            return self._error(500, message, no_retry)
        exchange = Exchange(body, reply, stream=bool(body.get("stream")))
        with self._lock:
            self.exchanges.append(exchange)
        if reply.think:
            await asyncio.sleep(reply.think)
        if not exchange.stream:
            exchange.completed = True
            return web.json_response(message_json(reply, body), headers=self._headers())
        return await self._stream(request, recorded, exchange)

    async def _stream(
        self, request: web.Request, recorded: Recorded, exchange: Exchange
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                **self._headers(),
            }
        )
        await response.prepare(request)
        recorded.status = response.status  # the client may read it all before this handler returns
        delay = exchange.reply.delay_between_events
        try:
            for n, (event, data) in enumerate(stream_events(exchange.reply, exchange.request)):
                if n and delay:
                    await asyncio.sleep(delay)
                await response.write(sse(event, data))
            await response.write_eof()
        except ConnectionResetError:
            # The client closed the stream early: a cancelled run, not a fake failure.
            exchange.aborted = True
            return response
        exchange.completed = True
        return response
