"""A fake Slack Web API (and Socket Mode endpoint) that the real slack_sdk clients talk to.

Point a client at it the way `SLACK_API_URL` is used:
`WebClient(token="xoxb-test", base_url=fake.url + "/api/")` (or `AsyncWebClient`, or
`fake.api_url`). Every method is `POST /api/<method>` (the async client sends "GET"
methods such as `users.info` as GET with a query string; both work) with a form or JSON
body. The fake keeps the workspace state a test wants to assert on: messages with their
thread, text, blocks, edit history and reactions, and ephemeral messages. It enforces
the few Slack rules our relay must respect (auth header, block limits, 429 with
`Retry-After`) so a bug shows up here instead of in production.

Methods answer like Slack: HTTP 200 with `{"ok": false, "error": ...}` on errors, 429 with
`Retry-After` when rate limited. An unknown method answers 501 and lands in
`fake.unhandled`, so a missing fake fails loudly. Add one with `add_method` or `stub`.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import math
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from slack_sdk.signature import SignatureVerifier

from tests.fakes.allowlist import allowed
from tests.fakes.base import FakeServer, Recorded
from tests.fakes.rate_limits import SlackTiers
from tests.fakes.slack_files import SlackFiles
from tests.fakes.slack_methods import call_problems, model_block_errors
from tests.fakes.slack_streams import FakeStream, SlackStreams

MethodHandler = Callable[[dict[str, Any], Recorded], dict[str, Any] | Awaitable[dict[str, Any]]]
"""A Web API method: gets the call's parameters, returns the reply without `ok`, or raises
`SlackError`."""

MAX_BLOCKS = 50
MAX_TEXT = 40_000
MAX_SECTION_TEXT = 3_000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2_000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_MARKDOWN_TEXT = 12_000
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2_000
REFUSALS = {"invalid_arguments", "invalid_blocks", "invalid_chunks", "msg_too_long"}
"""Errors that mean the request itself was wrong: each is recorded as a violation."""


class SlackError(Exception):
    """Raised by a method handler to answer `{"ok": false, "error": ...}` (or a 429)."""

    def __init__(
        self,
        error: str,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.headers = headers or {}
        self.extra = extra


def ratelimited(retry_after: int) -> SlackError:
    """The 429 Slack sends when a method's rate limit is exceeded."""
    return SlackError("ratelimited", status=429, headers={"Retry-After": str(retry_after)})


def sign(secret: str, body: str | bytes, timestamp: float | str | None = None) -> dict[str, str]:
    """Headers that sign `body` the way Slack signs requests to our app (v0 HMAC).

    `timestamp` defaults to now; pass an old one to test the 300-second replay window.
    """
    ts = str(int(time.time())) if timestamp is None else str(int(float(timestamp)))
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


# -- what a user sees -------------------------------------------------------------------------


def _text_of(obj: Any) -> str:
    """The string of a text object (`{"type": "mrkdwn", "text": ...}`) or a bare string."""
    if isinstance(obj, dict):
        return str(obj.get("text") or "")
    return obj if isinstance(obj, str) else ""


_RICH_LEAVES: dict[str, Callable[[dict[str, Any]], str]] = {
    "text": lambda e: str(e.get("text", "")),
    "link": lambda e: str(e.get("text") or e.get("url", "")),
    "emoji": lambda e: f":{e.get('name', '')}:",
    "user": lambda e: f"<@{e.get('user_id', '')}>",
    "channel": lambda e: f"<#{e.get('channel_id', '')}>",
    "usergroup": lambda e: f"<!subteam^{e.get('usergroup_id', '')}>",
    "broadcast": lambda e: f"@{e.get('range', '')}",
}


def _rich_text(element: Any) -> str:
    """Flatten a rich_text element tree to the characters it shows."""
    if not isinstance(element, dict):
        return ""
    kind = str(element.get("type"))
    leaf = _RICH_LEAVES.get(kind)
    if leaf is not None:
        return leaf(element)
    children = [_rich_text(child) for child in element.get("elements", [])]
    separator = "\n" if kind in ("rich_text", "rich_text_list") else ""
    return separator.join(children)


def _block_text(block: dict[str, Any]) -> list[str]:
    kind = block.get("type")
    parts: list[str] = []
    if kind in ("section", "header", "markdown"):
        parts.append(_text_of(block.get("text")))
        parts.extend(_text_of(f) for f in block.get("fields", []))
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("type") == "button":
            parts.append(_text_of(accessory.get("text")))
    elif kind == "context":
        parts.extend(_text_of(e) for e in block.get("elements", []) if e.get("type") != "image")
    elif kind == "actions":
        parts.extend(_text_of(e.get("text")) for e in block.get("elements", []))
    elif kind == "rich_text":
        parts.append(_rich_text(block))
    return parts


def render(blocks: Iterable[dict[str, Any]] | None, text: str | None = None) -> str:
    """The visible text of a message: its blocks' text (section, fields, header, context,
    markdown, rich_text, button labels) one per line, or `text` when it has no blocks
    (Slack shows `text` only as the notification fallback when blocks exist)."""
    if not blocks:
        return text or ""
    parts = [p for block in blocks for p in _block_text(block)]
    return "\n".join(p for p in parts if p)


def _section_errors(block: dict[str, Any], where: str) -> list[str]:
    errors: list[str] = []
    if "text" not in block and "fields" not in block:
        errors.append(f"must provide text or fields {where}]")
    if len(_text_of(block.get("text"))) > MAX_SECTION_TEXT:
        errors.append(f"must be less than {MAX_SECTION_TEXT + 1} characters {where}/text]")
    fields = block.get("fields", [])
    if len(fields) > MAX_SECTION_FIELDS:
        errors.append(f"must be less than {MAX_SECTION_FIELDS + 1} items {where}/fields]")
    for j, f in enumerate(fields):
        if len(_text_of(f)) > MAX_FIELD_TEXT:
            errors.append(f"must be less than {MAX_FIELD_TEXT + 1} characters {where}/fields/{j}]")
    return errors


def _header_errors(block: dict[str, Any], where: str) -> list[str]:
    head = block.get("text")
    if not isinstance(head, dict) or head.get("type") != "plain_text":
        return [f"must be a plain_text object {where}/text]"]
    if len(_text_of(head)) > MAX_HEADER_TEXT:
        return [f"must be less than {MAX_HEADER_TEXT + 1} characters {where}/text]"]
    return []


def _context_errors(block: dict[str, Any], where: str) -> list[str]:
    if len(block.get("elements", [])) > MAX_CONTEXT_ELEMENTS:
        return [f"must be less than {MAX_CONTEXT_ELEMENTS + 1} items {where}/elements]"]
    return []


def _actions_errors(block: dict[str, Any], where: str) -> list[str]:
    elements = block.get("elements", [])
    errors = []
    if len(elements) > MAX_ACTIONS_ELEMENTS:
        errors.append(f"must be less than {MAX_ACTIONS_ELEMENTS + 1} items {where}/elements]")
    ids = [e.get("action_id") for e in elements if e.get("action_id")]
    if len(ids) != len(set(ids)):
        errors.append(f"action_id must be unique in its block {where}/elements]")
    for j, element in enumerate(elements):
        if element.get("type") != "button":
            continue
        if len(_text_of(element.get("text"))) > MAX_BUTTON_TEXT:
            errors.append(
                f"must be less than {MAX_BUTTON_TEXT + 1} characters {where}/elements/{j}/text]"
            )
        if len(str(element.get("value") or "")) > MAX_BUTTON_VALUE:
            errors.append(
                f"must be less than {MAX_BUTTON_VALUE + 1} characters {where}/elements/{j}/value]"
            )
    return errors


_BLOCK_CHECKS: dict[str, Callable[[dict[str, Any], str], list[str]]] = {
    "section": _section_errors,
    "header": _header_errors,
    "context": _context_errors,
    "actions": _actions_errors,
}


def block_errors(blocks: Any) -> list[str]:
    """Why Slack would reject these blocks (`invalid_blocks`), in its own error style.

    Only the limits a progress relay can plausibly hit are checked: block count, section
    and field lengths, header and context shape, buttons (count per actions block, unique
    action ids, label and value lengths), unique block ids, and the total of markdown blocks.
    """
    if not isinstance(blocks, list):
        return ["must be an array [json-pointer:/blocks]"]
    errors: list[str] = []
    if len(blocks) > MAX_BLOCKS:
        errors.append(f"must be less than {MAX_BLOCKS + 1} items [json-pointer:/blocks]")
    markdown_total = 0
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"[json-pointer:/blocks/{i}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            errors.append(f"missing required field: type {where}]")
            continue
        if block.get("block_id") in block_ids:
            errors.append(f"duplicate block_id {where}/block_id]")
        block_ids.add(str(block.get("block_id") or f"#{i}"))
        check = _BLOCK_CHECKS.get(block["type"])
        if check is not None:
            errors.extend(check(block, where))
        if block["type"] == "markdown":
            markdown_total += len(_text_of(block.get("text")))
    if markdown_total > MAX_MARKDOWN_TEXT:
        errors.append(
            f"markdown blocks exceed {MAX_MARKDOWN_TEXT} characters [json-pointer:/blocks]"
        )
    return errors or model_block_errors(blocks)


# -- state ------------------------------------------------------------------------------------


@dataclass
class Edit:
    """One accepted chat.update of a message, with its arrival time (`time.monotonic()`)."""

    at: float
    edited_ts: str
    text: str
    blocks: list[dict[str, Any]] | None
    params: dict[str, Any]

    @property
    def visible_text(self) -> str:
        return render(self.blocks, self.text)


@dataclass
class FakeMessage:
    """A message in a channel; `text`/`blocks` are current, `edits` how they got there."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    attachments: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    user: str | None = None
    bot_id: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    posted_at: float = field(default_factory=time.monotonic)
    edits: list[Edit] = field(default_factory=list)
    reactions: dict[str, list[str]] = field(default_factory=dict)
    deleted: bool = False
    stream: FakeStream | None = None
    """Set on a message made by chat.startStream: its text, task cards and final blocks."""

    @property
    def visible_text(self) -> str:
        if self.stream is None:
            return render(self.blocks, self.text)
        cards = [f"[{t.status}] {t.title}" for t in self.stream.tasks.values()]
        parts = [self.stream.text, *cards, render(self.blocks)]
        return "\n".join(p for p in parts if p)

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_api(self, team_id: str) -> dict[str, Any]:
        """The message as Slack's API returns it."""
        out: dict[str, Any] = {"type": "message", "ts": self.ts, "text": self.text}
        if self.user:
            out["user"] = self.user
        if self.bot_id:
            out["bot_id"] = self.bot_id
        out["team"] = team_id
        if self.blocks is not None:
            out["blocks"] = self.blocks
        if self.attachments:
            out["attachments"] = self.attachments
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if self.edits:
            out["edited"] = {"user": self.user, "ts": self.edits[-1].edited_ts}
        if self.reactions:
            out["reactions"] = [
                {"name": name, "users": list(users), "count": len(users)}
                for name, users in self.reactions.items()
            ]
        return out


@dataclass
class Ephemeral:
    """A chat.postEphemeral message: seen only by `user`, never stored in the channel."""

    channel: str
    user: str
    message_ts: str
    text: str
    blocks: list[dict[str, Any]] | None
    thread_ts: str | None
    params: dict[str, Any]
    at: float

    @property
    def visible_text(self) -> str:
        return render(self.blocks, self.text)


def _blank_to_none(value: Any) -> Any:
    return None if value in (None, "") else value


def _decoded(value: Any) -> Any:
    """Form-encoded calls send blocks/attachments as JSON strings; JSON calls as lists."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class FakeSlack(FakeServer):
    """Fake Slack workspace; see the module docstring. Start it before use."""

    def __init__(
        self,
        *,
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
        bot_name: str = "repobox",
        team_id: str = "T0001",
        team: str = "Fake Team",
        team_domain: str = "fake-team",
        app_id: str = "AFAKE",
        token: str | None = None,
        app_token: str | None = None,
        strict: bool = False,
    ) -> None:
        """`token`/`app_token`: the only accepted tokens (None: any `xoxb-`/`xoxp-`, resp.
        `xapp-`). `strict`: unknown users and channels answer `user_not_found` /
        `channel_not_found` instead of being made up on the fly."""
        super().__init__()
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.team_id = team_id
        self.team = team
        self.team_domain = team_domain
        self.app_id = app_id
        self.token = token
        self.app_token = app_token
        self.strict = strict
        self._state = threading.RLock()
        self._seq = 0
        self._messages: dict[tuple[str, str], FakeMessage] = {}
        self._ephemerals: list[Ephemeral] = []
        self._users: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, dict[str, Any]] = {}
        self._methods: dict[str, MethodHandler] = {}
        self._edit_interval: float | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self.socket_messages: list[dict[str, Any]] = []
        self.home_views: dict[str, dict[str, Any]] = {}
        """The App Home view last published for each user (views.publish)."""
        """Everything our app sent over Socket Mode (acks), in order."""
        self.add_user(bot_user_id, name=bot_name, real_name=bot_name, is_bot=True)
        for name, handler in {
            "api.test": self._api_test,
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.delete": self._delete,
            "chat.getPermalink": self._permalink,
            "reactions.add": self._reactions_add,
            "reactions.remove": self._reactions_remove,
            "reactions.get": self._reactions_get,
            "users.info": self._users_info,
            "conversations.info": self._conversations_info,
            "conversations.replies": self._conversations_replies,
            "conversations.history": self._conversations_history,
            "apps.connections.open": self._connections_open,
            "views.publish": self._views_publish,
        }.items():
            self.add_method(name, handler)
        self.route("GET", "/socket-mode", self._socket)
        self.streams = SlackStreams(self)
        self.tiers = SlackTiers()
        """Slack's per-method tiers (tests/fakes/rate_limits.py); `tiers.enabled = False`: off."""
        """chat.*Stream and assistant.threads.*: streams, statuses, tiers, refusals."""
        self.files = SlackFiles(self)  # url_private downloads (tests/fakes/slack_files.py)

    # -- set-up -------------------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        """The value for `SLACK_API_URL` / a client's `base_url`."""
        return self.url + "/api/"

    def add_method(self, name: str, handler: MethodHandler) -> None:
        """Serve (or replace) Web API method `name`; auth is checked before `handler` runs."""
        with self._state:
            known = name in self._methods
            self._methods[name] = handler
        if not known:

            async def serve(request: web.Request, call: Recorded) -> web.StreamResponse:
                return await self._serve_method(name, call)

            self.route("*", f"/api/{name}", serve)

    def stub(self, name: str, response: dict[str, Any] | None = None) -> None:
        """Serve `name` with a fixed reply (`ok: true` is added)."""
        reply = dict(response or {})
        self.add_method(name, lambda params, call: reply)

    def add_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        real_name: str | None = None,
        display_name: str | None = None,
        email: str | None = None,
        is_bot: bool = False,
        **extra: Any,
    ) -> dict[str, Any]:
        """Define what users.info returns for `user_id`; `extra` goes at the top level."""
        name = name or user_id.lower()
        real_name = real_name if real_name is not None else f"User {user_id}"
        display_name = display_name if display_name is not None else name
        profile: dict[str, Any] = {
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": display_name,
            "display_name_normalized": display_name,
            "team": self.team_id,
        }
        if not is_bot:
            profile["email"] = email if email is not None else f"{name}@example.com"
        elif user_id == self.bot_user_id:
            profile["bot_id"] = self.bot_id
        user = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "deleted": False,
            "real_name": real_name,
            "tz": "Europe/Amsterdam",
            "is_admin": False,
            "is_owner": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "profile": profile,
            **extra,
        }
        with self._state:
            self._users[user_id] = user
        return user

    def add_channel(self, channel_id: str, *, name: str | None = None, **extra: Any) -> None:
        """Define what conversations.info returns for `channel_id` (C…, G… private, D… IM)."""
        with self._state:
            self._channels[channel_id] = self._channel_info(channel_id, name, extra)

    def add_message(
        self,
        channel: str,
        text: str,
        *,
        user: str = "U0HUMAN",
        thread_ts: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
    ) -> FakeMessage:
        """Seed a message someone else wrote (for history/replies and reactions)."""
        with self._state:
            message = FakeMessage(
                channel=channel,
                ts=self._next_ts(),
                text=text,
                blocks=blocks,
                thread_ts=thread_ts,
                user=user,
            )
            self._messages[(channel, message.ts)] = message
        return message

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next `times` calls of `method` with 429 and `Retry-After`."""
        self.fail_next(
            f"/api/{method}",
            429,
            times=times,
            headers={"Retry-After": str(retry_after)},
            body={"ok": False, "error": "ratelimited"},
        )

    def enforce_edit_rate(self, min_interval: float | None = 1.0) -> None:
        """Answer 429 to a chat.update that comes less than `min_interval` seconds after the
        last accepted update of the same message (None turns this off). Slack throttles
        bursts of edits to one message; this makes a 429 storm reproducible."""
        with self._state:
            self._edit_interval = min_interval

    # -- queries for tests --------------------------------------------------------------------
    def messages(
        self,
        channel: str | None = None,
        thread_ts: str | None = None,
        *,
        include_deleted: bool = False,
    ) -> list[FakeMessage]:
        """Messages in ts order. With `thread_ts`: only that thread's replies (not its parent;
        use `message(channel, thread_ts)` for that)."""
        with self._state:
            found = [
                m
                for m in self._messages.values()
                if (channel is None or m.channel == channel)
                and (thread_ts is None or (m.thread_ts == thread_ts and m.ts != thread_ts))
                and (include_deleted or not m.deleted)
            ]
        return sorted(found, key=lambda m: m.ts)

    def message(self, channel: str, ts: str) -> FakeMessage:
        """The message as it is now (live object: it changes with later edits)."""
        with self._state:
            return self._messages[(channel, ts)]

    def edits(self, channel: str, ts: str) -> list[Edit]:
        """The accepted chat.update calls of one message, oldest first."""
        with self._state:
            return list(self._messages[(channel, ts)].edits)

    def reactions(self, channel: str, ts: str) -> list[str]:
        """Reaction names currently on a message, in the order they were added."""
        with self._state:
            return list(self._messages[(channel, ts)].reactions)

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[Ephemeral]:
        with self._state:
            return [
                e
                for e in self._ephemerals
                if (channel is None or e.channel == channel) and (user is None or e.user == user)
            ]

    def throttled(self, method: str | None = None) -> list[Recorded]:
        """Calls answered with 429 (scripted or by the edit-rate rule)."""
        with self._lock:
            calls = list(self.calls)
        return [
            c for c in calls if c.status == 429 and (method is None or c.path == f"/api/{method}")
        ]

    # -- Socket Mode --------------------------------------------------------------------------
    @property
    def socket_count(self) -> int:
        """How many Socket Mode connections are open."""
        return len(self._sockets)

    def socket_send(
        self,
        envelope_type: str,
        payload: dict[str, Any],
        *,
        envelope_id: str | None = None,
        accepts_response_payload: bool = False,
        retry_attempt: int = 0,
    ) -> str:
        """Push an envelope (`events_api`, `slash_commands`, `interactive`) to the newest
        Socket Mode connection; returns its envelope_id, which the app's ack echoes."""
        envelope_id = envelope_id or str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": retry_attempt,
            "retry_reason": "timeout" if retry_attempt else "",
            "payload": payload,
        }
        if not self._sockets or self._loop is None:
            raise AssertionError("FakeSlack: no Socket Mode connection is open")
        socket = self._sockets[-1]
        asyncio.run_coroutine_threadsafe(socket.send_json(envelope), self._loop).result(5)
        return envelope_id

    def socket_ack(self, envelope_id: str) -> dict[str, Any] | None:
        """The app's ack of one envelope, if it arrived."""
        for sent in list(self.socket_messages):
            if sent.get("envelope_id") == envelope_id:
                return sent
        return None

    def stop(self) -> None:
        """Close Socket Mode connections first: open websockets would stall the shutdown."""
        loop = self._loop
        if loop is not None and self._sockets:

            async def close_all() -> None:
                for socket in list(self._sockets):
                    await socket.close()

            asyncio.run_coroutine_threadsafe(close_all(), loop).result(5)
        super().stop()

    # -- internals ----------------------------------------------------------------------------
    def _next_ts(self) -> str:
        """Unique, increasing, Slack-shaped timestamps (100 µs apart)."""
        with self._state:
            self._seq += 1
            micros = 1_700_000_000_000_000 + self._seq * 100
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _check_auth(self, name: str, call: Recorded) -> None:
        auth = call.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        if not (call.body and "json" in call.headers.get("Content-Type", "")):  # JSON: header only
            token = token or str(call.params().get("token") or "")
        if not token:
            raise SlackError("not_authed")
        if name == "apps.connections.open":
            if not token.startswith("xapp-"):
                raise SlackError("not_allowed_token_type")
            if self.app_token is not None and token != self.app_token:
                raise SlackError("invalid_auth")
            return
        if not token.startswith(("xoxb-", "xoxp-")):
            raise SlackError(
                "not_allowed_token_type" if token.startswith("xapp-") else "invalid_auth"
            )
        if self.token is not None and token != self.token:
            raise SlackError("invalid_auth")

    def _check_call(self, name: str, call: Recorded) -> None:
        """slack-sdk's description of the method (tests/fakes/slack_methods.py): refuse
        what Slack refuses, and record it as a violation."""
        if allowed("slack", call.method, call.path):
            return
        json_body = bool(call.body) and "json" in call.headers.get("Content-Type", "")
        bearer = call.headers.get("Authorization", "").startswith("Bearer ")
        problems = call_problems(name, call.params(), json_body=json_body, bearer=bearer)
        for problem in problems:
            self.violate(call, f"{problem.error}: {problem.message}")
        refused = [p for p in problems if p.refuse]
        if refused:
            call.violations_recorded = True
            messages = [f"[ERROR] {p.message}" for p in refused]
            raise SlackError(refused[0].error, response_metadata={"messages": messages})

    async def _serve_method(self, name: str, call: Recorded) -> web.StreamResponse:
        try:
            self._check_call(name, call)
            self._check_auth(name, call)
            if (wait := self.tiers.check(name, call.params().get("channel"), call.at)) is not None:
                raise ratelimited(wait)
            with self._state:
                handler = self._methods[name]
            params = {k: _decoded(v) for k, v in call.params().items()}
            params.pop("token", None)
            result = handler(params, call)
            if inspect.isawaitable(result):
                result = await result
        except SlackError as e:
            if e.error in REFUSALS and not call.violations_recorded:
                self.violate(call, f"{e.error}: {e.extra}")
            body = {"ok": False, "error": e.error, **e.extra}
            return web.json_response(body, status=e.status, headers=e.headers)
        return web.json_response({"ok": True, **result})

    def _channel_info(
        self, channel: str, name: str | None, extra: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "id": channel,
            "name": name or channel.lower(),
            "is_channel": channel.startswith("C"),
            "is_group": channel.startswith("G"),
            "is_im": channel.startswith("D"),
            "is_private": not channel.startswith("C"),
            "is_archived": False,
            "is_member": True,
            "created": 1_600_000_000,
            "context_team_id": self.team_id,
            **extra,
        }

    def _channel(self, params: dict[str, Any]) -> str:
        channel = _blank_to_none(params.get("channel"))
        if channel is None:
            raise SlackError("channel_not_found")
        channel = str(channel)
        if self.strict and channel not in self._channels:
            raise SlackError("channel_not_found")
        return channel

    def _find(self, channel: str, ts: Any) -> FakeMessage:
        message = self._messages.get((channel, str(ts)))
        if message is None or message.deleted:
            raise SlackError("message_not_found")
        return message

    @staticmethod
    def _content(params: dict[str, Any], *, update: bool) -> None:
        """Slack's checks on text and blocks (`no_text`, `msg_too_long`, `invalid_blocks`)."""
        has = [k for k in ("text", "blocks", "attachments") if _blank_to_none(params.get(k))]
        if not has and not (update and "blocks" in params):
            raise SlackError("no_text")
        if len(str(params.get("text") or "")) > MAX_TEXT:
            raise SlackError("msg_too_long")
        if params.get("blocks") not in (None, ""):
            errors = block_errors(params["blocks"])
            if errors:
                raise SlackError("invalid_blocks", errors=errors)

    # -- methods ------------------------------------------------------------------------------
    def _views_publish(self, params: dict[str, Any], call: Recorded) -> dict[str, Any]:
        """A Home tab view: type `home`, at most 100 blocks that Slack would accept."""
        user, view = params.get("user_id"), _decoded(params.get("view"))
        if not user or not isinstance(view, dict):
            raise SlackError("invalid_arguments")
        blocks = view.get("blocks") or []
        if view.get("type") != "home" or len(blocks) > 100 or block_errors(blocks):
            raise SlackError(
                "invalid_arguments", response_metadata={"messages": block_errors(blocks)}
            )
        with self._state:
            self.home_views[str(user)] = view
        return {"view": {"id": f"V{len(self.home_views)}", **view}}

    def _api_test(self, params: dict[str, Any], call: Recorded) -> dict[str, Any]:
        return {"args": params} if params else {}

    def _auth_test(self, params: dict[str, Any], call: Recorded) -> dict[str, Any]:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _post_message(self, params: dict[str, Any], call: Recorded) -> dict[str, Any]:
        channel = self._channel(params)
        self._content(params, update=False)
        thread_ts = _blank_to_none(params.get("thread_ts"))
        with self._state:
            message = FakeMessage(
                channel=channel,
                ts=self._next_ts(),
                text=str(params.get("text") or ""),
                blocks=_blank_to_none(params.get("blocks")),
                attachments=_blank_to_none(params.get("attachments")),
                thread_ts=None if thread_ts is None else str(thread_ts),
                user=self.bot_user_id,
                bot_id=self.bot_id,
                params=params,
                posted_at=call.at,
            )
            self._messages[(channel, message.ts)] = message
            return {"channel": channel, "ts": message.ts, "message": message.to_api(self.team_id)}

    def _update(self, params: dict[str, Any], call: Recorded) -> dict[str, Any]:
        channel = self._channel(params)
        with self._state:
            message = self._find(channel, params.get("ts"))
            if message.bot_id != self.bot_id:
                raise SlackError("cant_update_message")
            if self.streams.is_streaming(channel, message.ts):
                raise SlackError("streaming_state_conflict")
            self._content(params, update=True)
            interval = self._edit_interval
            if interval is not None and message.edits:
                wait = interval - (call.at - message.edits[-1].at)
                if wait > 0:
                    raise ratelimited(max(1, math.ceil(wait)))
            if "text" in params:
                message.text = str(params["text"] or "")
            if "blocks" in params:
                message.blocks = _blank_to_none(params["blocks"]) or None
            if "attachments" in params:
                message.attachments = _blank_to_none(params["attachments"]) or None
            edit = Edit(call.at, self._next_ts(), message.text, message.blocks, params)
            message.edits.append(edit)
            return {
                "channel": channel,
                "ts": message.ts,
                "text": message.text,
                "message": message.to_api(self.team_id),
            }

    def _post_ephemeral(self, params: dict[str, Any], call: Recorded) -> dict[str, Any]:
        channel = self._channel(params)
        user = _blank_to_none(params.get("user"))
        if user is None:
            raise SlackError("user_not_in_channel")
        self._content(params, update=False)
        thread_ts = _blank_to_none(params.get("thread_ts"))
        with self._state:
            ephemeral = Ephemeral(
                channel=channel,
                user=str(user),
                message_ts=self._next_ts(),
                text=str(params.get("text") or ""),
                blocks=_blank_to_none(params.get("blocks")),
                thread_ts=None if thread_ts is None else str(thread_ts),
                params=params,
                at=call.at,
            )
            self._ephemerals.append(ephemeral)
        return {"message_ts": ephemeral.message_ts}

    def _delete(self, params: dict[str, Any], call: Recorded) -> dict[str, Any]:
        channel = self._channel(params)
        with self._state:
            message = self._find(channel, params.get("ts"))
            if message.bot_id != self.bot_id:
                raise SlackError("cant_delete_message")
            message.deleted = True
        return {"channel": channel, "ts": message.ts}

    def _permalink(self, params: dict[str, Any], call: Recorded) -> dict[str, Any]:
        channel = self._channel(params)
        with self._state:
            message = self._find(channel, params.get("message_ts"))
        archive = f"https://{self.team_domain}.slack.com/archives/{channel}"
        link = f"{archive}/p{message.ts.replace('.', '')}"
        if message.is_reply:
            link += f"?thread_ts={message.thread_ts}&cid={channel}"
        return {"channel": channel, "permalink": link}

    def _reaction_target(self, params: dict[str, Any]) -> tuple[FakeMessage, str]:
        channel = self._channel(params)
        name = str(_blank_to_none(params.get("name")) or "").strip(":")
        if not name:
            raise SlackError("invalid_name")
        return self._find(channel, params.get("timestamp")), name

    def _reactions_add(self, params: dict[str, Any], call: Recorded) -> dict[str, Any]:
        with self._state:
            message, name = self._reaction_target(params)
            users = message.reactions.setdefault(name, [])
            if self.bot_user_id in users:
                raise SlackError("already_reacted")
            users.append(self.bot_user_id)
        return {}

    def _reactions_remove(self, params: dict[str, Any], call: Recorded) -> dict[str, Any]:
        with self._state:
            message, name = self._reaction_target(params)
            users = message.reactions.get(name, [])
            if self.bot_user_id not in users:
                raise SlackError("no_reaction")
            users.remove(self.bot_user_id)
            if not users:
                del message.reactions[name]
        return {}

    def _reactions_get(self, params: dict[str, Any], call: Recorded) -> dict[str, Any]:
        channel = self._channel(params)
        with self._state:
            message = self._find(channel, params.get("timestamp"))
            return {"type": "message", "channel": channel, "message": message.to_api(self.team_id)}

    def _users_info(self, params: dict[str, Any], call: Recorded) -> dict[str, Any]:
        user_id = str(params.get("user") or "")
        with self._state:
            user = self._users.get(user_id)
        if user is None:
            if self.strict or not user_id:
                raise SlackError("user_not_found")
            user = self.add_user(user_id)
        return {"user": user}

    def _conversations_info(self, params: dict[str, Any], call: Recorded) -> dict[str, Any]:
        channel = self._channel(params)
        with self._state:
            info = self._channels.get(channel) or self._channel_info(channel, None, {})
        return {"channel": info}

    def _conversations_replies(self, params: dict[str, Any], call: Recorded) -> dict[str, Any]:
        channel = self._channel(params)
        ts = str(params.get("ts") or "")
        with self._state:
            parent = self._find(channel, ts)
            thread = [parent, *self.messages(channel, ts)]
            messages = [m.to_api(self.team_id) for m in thread]
        return {"messages": messages, "has_more": False}

    def _conversations_history(self, params: dict[str, Any], call: Recorded) -> dict[str, Any]:
        channel = self._channel(params)
        with self._state:
            top = [m for m in self.messages(channel) if not m.is_reply]
            messages = [m.to_api(self.team_id) for m in reversed(top)]
        return {"messages": messages, "has_more": False}

    def _connections_open(self, params: dict[str, Any], call: Recorded) -> dict[str, Any]:
        ws_url = self.url.replace("http://", "ws://", 1)
        return {"url": f"{ws_url}/socket-mode?ticket={uuid.uuid4()}&app_id={self.app_id}"}

    async def _socket(self, request: web.Request, call: Recorded) -> web.StreamResponse:
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._sockets.append(socket)
        try:
            await socket.send_json(
                {
                    "type": "hello",
                    "num_connections": len(self._sockets),
                    "debug_info": {"host": "fake-slack", "approximate_connection_time": 3600},
                    "connection_info": {"app_id": self.app_id},
                }
            )
            async for frame in socket:
                if frame.type == WSMsgType.TEXT:
                    try:
                        self.socket_messages.append(json.loads(frame.data))
                    except ValueError:
                        self.socket_messages.append({"raw": frame.data})
        finally:
            self._sockets.remove(socket)
        return socket
