"""What Slack sent, read once into typed values before Bolt or any listener sees it.

Slack posts three shapes to one route: slash commands (a form), Events API envelopes
(JSON) and interactivity (a form whose `payload` is JSON). `read` decides which, the
same way Bolt does, and checks every field Repobox or Bolt reads: ids and timestamps have
Slack's shapes, objects are objects, lists are lists. A body that does not read is a 400
before it reaches Bolt, so neither Bolt's matchers nor our listeners meet `{"type": []}`,
an `event` of `0`, an action without `action_id` or a `channel_id` of `C1:2`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from handlers.common.payload import Malformed, Obj, check_tree, parse_form, parse_json

KEY = "repobox_request"  # where the typed value rides in Bolt's context
MAX_TEXT = 40_000  # Slack's own limit on a message's text
_ID = re.compile(r"[A-Z0-9]{1,32}")  # T…, E…, C…, G…, D…, U…, W…, B…
_TS = re.compile(r"\d{1,12}\.\d{1,9}")
_EVENT_ID = re.compile(r"Ev[A-Za-z0-9]{1,62}")
_TRIGGER = re.compile(r"[A-Za-z0-9.]{1,128}")
_COMMAND = re.compile(r"/[\w.-]{1,32}")
_TYPE = re.compile(r"[a-z_]{1,64}")
_NAME = re.compile(r"[^\x00-\x1f]{1,200}")
_ACTION_ID = re.compile(r"[A-Za-z0-9_.:-]{1,255}")
_CHALLENGE = re.compile(r"[\x21-\x7e]{1,200}")
# Interactivity types Bolt dispatches to `action` listeners: each must carry its actions.
ACTION_TYPES = frozenset({"block_actions"})
OTHER_TYPES = frozenset(
    {"app_rate_limited", "block_suggestion", "view_submission", "interactive_message",
     "view_closed", "shortcut", "message_action", "dialog_submission",
     "dialog_cancellation", "dialog_suggestion", "workflow_step_edit"}
)  # fmt: skip


@dataclass(frozen=True)
class SlashCommand:
    team: str
    channel: str
    user: str
    user_name: str
    command: str
    text: str
    trigger_id: str | None


@dataclass(frozen=True)
class SlackEvent:
    """The inner event of an `event_callback`; people's messages carry all the ids."""

    type: str
    subtype: str | None
    by_bot: bool
    bot_id: str | None
    team: str | None
    channel: str | None
    user: str | None
    ts: str | None
    thread_ts: str | None
    text: str
    channel_type: str | None = None  # "im" marks a DM, the assistant container's home
    assistant_thread: dict[str, Any] | None = None  # ids only (see `_assistant_thread`)


@dataclass(frozen=True)
class EventCallback:
    team: str
    event_id: str
    event: SlackEvent


@dataclass(frozen=True)
class Action:
    action_id: str
    value: str
    action_ts: str | None


@dataclass(frozen=True)
class Interaction:
    type: str
    team: str | None
    channel: str | None
    user: str
    user_name: str
    trigger_id: str | None
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Other:
    """A kind of request no listener needs: Slack's URL check, or one Repobox ignores."""

    type: str
    challenge: str = ""


SlackRequest = SlashCommand | EventCallback | Interaction | Other


def read(raw: str, content_type: str | None) -> SlackRequest:
    """An HTTP body, parsed as Bolt will parse it (JSON when declared or when it looks
    like JSON; otherwise a form, with interactivity in its `payload` field)."""
    if content_type == "application/json" or raw.startswith("{"):
        return read_body(parse_json(raw))
    form = parse_form(raw)
    if "payload" in form:
        return read_body(parse_json(form["payload"]))
    if form.get("ssl_check"):
        return Other("ssl_check")
    return read_body(Obj(form, "body"))


def read_mapping(body: Mapping[str, Any]) -> SlackRequest:
    """A body Bolt already parsed (Socket Mode hands over dicts, not text)."""
    check_tree(body)
    return read_body(Obj.of(body, "body"))


def read_body(body: Obj) -> SlackRequest:
    if body.has("command"):
        return _command(body)
    kind = body.text("type", _TYPE)
    if kind == "event_callback":
        return _callback(body)
    if kind in ACTION_TYPES:
        return _interaction(body, kind)
    if kind == "url_verification":
        return Other(kind, body.text("challenge", _CHALLENGE))
    if kind in OTHER_TYPES:
        return Other(kind)
    raise Malformed(f"type {kind} is not a Slack request")


def _command(body: Obj) -> SlashCommand:
    command = body.text("command", _COMMAND)
    return SlashCommand(
        team=body.text("team_id", _ID),
        channel=body.text("channel_id", _ID),
        user=body.text("user_id", _ID),
        user_name=body.opt_text("user_name", _NAME) or "",
        command=command,
        text=body.opt_text("text", limit=MAX_TEXT) or "",
        trigger_id=body.opt_text("trigger_id", _TRIGGER),
    )


def _callback(body: Obj) -> EventCallback:
    event = body.obj("event")
    return EventCallback(
        team=body.text("team_id", _ID),
        event_id=body.text("event_id", _EVENT_ID),
        event=SlackEvent(
            type=event.text("type", _TYPE),
            subtype=event.opt_text("subtype", _TYPE),
            by_bot=event.has("bot_id") or event.has("bot_profile"),
            bot_id=event.opt_text("bot_id", _ID),
            team=event.opt_text("team", _ID),
            channel=event.opt_text("channel", _ID),
            user=event.opt_text("user", _ID),
            ts=event.opt_text("ts", _TS),
            thread_ts=event.opt_text("thread_ts", _TS),
            text=event.opt_text("text", limit=MAX_TEXT) or "",
            channel_type=event.opt_text("channel_type", _TYPE),
            assistant_thread=_assistant_thread(event.opt_obj("assistant_thread")),
        ),
    )


def _assistant_thread(thread: Obj | None) -> dict[str, Any] | None:
    """The ids of an assistant thread (who opened it, where, from which channel), as Bolt's
    `Assistant` middleware reads them; nothing else of it is passed on."""
    if thread is None:
        return None
    context = thread.opt_obj("context")
    where = (
        {key: context.opt_text(key, _ID) for key in ("channel_id", "team_id", "enterprise_id")}
        if context
        else {}
    )
    return {
        "user_id": thread.opt_text("user_id", _ID),
        "channel_id": thread.text("channel_id", _ID),
        "thread_ts": thread.text("thread_ts", _TS),
        "context": {k: v for k, v in where.items() if v is not None},
    }


def _interaction(body: Obj, kind: str) -> Interaction:
    user = body.obj("user")
    team = body.opt_obj("team")
    channel = body.opt_obj("channel")
    actions = tuple(
        Action(
            action_id=action.text("action_id", _ACTION_ID),
            value=action.opt_text("value", limit=2000) or "",
            action_ts=action.opt_text("action_ts", _TS),
        )
        for action in body.objs("actions", limit=25)
    )
    if not actions:
        raise Malformed("actions is empty")
    return Interaction(
        type=kind,
        team=(team.opt_text("id", _ID) if team else None) or user.opt_text("team_id", _ID),
        channel=channel.opt_text("id", _ID) if channel else None,
        user=user.text("id", _ID),
        user_name=user.opt_text("username", _NAME) or user.opt_text("name", _NAME) or "",
        trigger_id=body.opt_text("trigger_id", _TRIGGER),
        actions=actions,
    )


def place(parsed: SlackRequest) -> tuple[str | None, str | None, str | None]:
    """(team, channel, user) of a request, for the allow-lists."""
    if isinstance(parsed, SlashCommand | Interaction):
        return parsed.team, parsed.channel, parsed.user
    if isinstance(parsed, EventCallback):
        return parsed.team, parsed.event.channel, parsed.event.user
    return None, None, None
