"""What Slack sent, read once into typed values before Bolt or any listener sees it.

Slack posts three shapes to one route: slash commands (a form), Events API envelopes
(JSON) and interactivity (a form whose `payload` is JSON). `read` decides which, the
same way Bolt does, and the pydantic models below check every field Repobox or Bolt
reads: ids and timestamps have Slack's shapes, objects are objects, lists are lists, and
nothing is coerced. A body that does not read is `Malformed` (a 400) before it reaches
Bolt, so neither Bolt's matchers nor our listeners meet `{"type": []}`, an `event` of
`0`, an action without `action_id` or a `channel_id` of `C1:2`. The models keep Slack's
field names, so `bolt_body` is the typed value dumped back.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    TypeAdapter,
    ValidationError,
)
from pydantic_core import from_json

from handlers.common.payload import Malformed, check_tree, parse_form

KEY = "repobox_request"  # where the typed value rides in Bolt's context
MAX_TEXT = 40_000  # Slack's own limit on a message's text


def _text(pattern: str | None = None, limit: int = 1000) -> StringConstraints:
    return StringConstraints(pattern=f"^{pattern}$" if pattern else None, max_length=limit)


Id = Annotated[str, _text("[A-Z0-9]{1,32}")]  # T…, E…, C…, G…, D…, U…, W…, B…
Ts = Annotated[str, _text(r"\d{1,12}\.\d{1,9}")]
Kind = Annotated[str, _text("[a-z_]{1,64}")]
Name = Annotated[str, _text(r"[^\x00-\x1f]{1,200}")]
Message = Annotated[str, BeforeValidator(lambda v: "" if v is None else v), _text(limit=MAX_TEXT)]

# Kinds of request Repobox acknowledges and ignores (block_actions, Bolt's `action`
# listeners' kind, is read as an `Interaction`: it must carry its actions).
OTHER_TYPES = frozenset(
    {"app_rate_limited", "block_suggestion", "view_submission", "interactive_message",
     "view_closed", "shortcut", "message_action", "dialog_submission",
     "dialog_cancellation", "dialog_suggestion", "workflow_step_edit"}
)  # fmt: skip


class Wire(BaseModel):
    """A part of a Slack body: typed strictly, fields Repobox does not read dropped."""

    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")


class SlashCommand(Wire):
    command: Annotated[str, _text(r"/[\w.-]{1,32}")]
    team_id: Id
    channel_id: Id
    user_id: Id
    user_name: Name | None = None
    text: Message = ""
    trigger_id: Annotated[str, _text("[A-Za-z0-9.]{1,128}")] | None = None


class ThreadContext(Wire):
    channel_id: Id | None = None
    team_id: Id | None = None
    enterprise_id: Id | None = None


class AssistantThread(Wire):
    """The ids of an assistant thread (who opened it, where, from which channel), as Bolt's
    `Assistant` middleware reads them; nothing else of it is passed on."""

    user_id: Id | None = None
    channel_id: Id
    thread_ts: Ts
    context: Annotated[ThreadContext, BeforeValidator(lambda v: {} if v is None else v)] = (
        ThreadContext()
    )


class SharedFile(Wire):
    """A file a message shares (`files`): only what Repobox reads to fetch it later."""

    id: Annotated[str, _text("F[A-Z0-9]{1,32}")]
    name: Name | None = None
    mimetype: Annotated[str, _text(r"[\w.+-]{1,100}/[\w.+-]{1,100}")] | None = None
    size: Annotated[int, Field(ge=0)] | None = None
    url_private: Annotated[str, _text(r"https?://[^\s]{1,2000}", limit=2100)] | None = None


class SlackEvent(Wire):
    """The inner event of an `event_callback`; people's messages carry all the ids."""

    type: Kind
    subtype: Kind | None = None
    bot_id: Id | None = None
    bot_profile: object = Field(default=None, exclude=True)  # only whether it is there
    team: Id | None = None
    channel: Id | None = None
    user: Id | None = None
    ts: Ts | None = None
    thread_ts: Ts | None = None
    text: Message = ""
    channel_type: Kind | None = None  # "im" marks a DM, the assistant container's home
    assistant_thread: AssistantThread | None = None
    files: Annotated[list[SharedFile], Field(max_length=100)] = []

    @property
    def by_bot(self) -> bool:
        return self.bot_id is not None or self.bot_profile is not None


class EventCallback(Wire):
    type: Literal["event_callback"]
    team_id: Id
    event_id: Annotated[str, _text("Ev[A-Za-z0-9]{1,62}")]
    event: SlackEvent


class Action(Wire):
    action_id: Annotated[str, _text("[A-Za-z0-9_.:-]{1,255}")]
    value: Annotated[str, BeforeValidator(lambda v: "" if v is None else v), _text(limit=2000)] = ""
    action_ts: Ts | None = None


class User(Wire):
    id: Id
    username: Name | None = None
    name: Name | None = None
    team_id: Id | None = None


class Where(Wire):
    id: Id | None = None


class Interaction(Wire):
    type: Literal["block_actions"]
    user: User
    team: Where | None = None
    channel: Where | None = None
    trigger_id: Annotated[str, _text("[A-Za-z0-9.]{1,128}")] | None = None
    actions: Annotated[list[Action], Field(min_length=1, max_length=25)]

    @property
    def team_id(self) -> str | None:
        return (self.team.id if self.team else None) or self.user.team_id

    @property
    def channel_id(self) -> str | None:
        return self.channel.id if self.channel else None

    @property
    def user_name(self) -> str:
        return self.user.username or self.user.name or ""


class UrlVerification(Wire):
    type: Literal["url_verification"]
    challenge: Annotated[str, _text(r"[\x21-\x7e]{1,200}")]


class Other(Wire):
    """A kind of request no listener needs: one Repobox ignores, or Slack's SSL check."""

    type: Kind


Unheard = UrlVerification | Other  # answered by the route itself


def _kind(body: object) -> str | None:
    """Which model reads `body`: a command when it has one, else by its `type`."""
    if not isinstance(body, dict):
        return None
    if body.get("command") is not None:
        return "command"
    kind = body.get("type")
    if not isinstance(kind, str):
        return None
    return "other" if kind in OTHER_TYPES else kind


SlackRequest = SlashCommand | EventCallback | Interaction | UrlVerification | Other
_READER: TypeAdapter[SlackRequest] = TypeAdapter(
    Annotated[
        Annotated[SlashCommand, Tag("command")]
        | Annotated[EventCallback, Tag("event_callback")]
        | Annotated[Interaction, Tag("block_actions")]
        | Annotated[UrlVerification, Tag("url_verification")]
        | Annotated[Other, Tag("other")],
        Discriminator(_kind),
    ]
)


def read(raw: str, content_type: str | None) -> SlackRequest:
    """An HTTP body, parsed as Bolt will parse it (JSON when declared or when it looks
    like JSON; otherwise a form, with interactivity in its `payload` field)."""
    if content_type == "application/json" or raw.startswith("{"):
        return read_mapping(_json(raw))
    try:
        form = parse_form(raw)
    except UnicodeDecodeError:
        raise Malformed("a form field is not UTF-8") from None
    if "payload" in form:
        return read_mapping(_json(form["payload"]))
    if form.get("ssl_check"):
        return Other(type="ssl_check")
    return read_mapping(form)


def read_mapping(body: object) -> SlackRequest:
    """A body already parsed (Socket Mode hands Bolt dicts, not text)."""
    check_tree(body)
    try:
        return _READER.validate_python(body)
    except ValidationError as error:
        raise Malformed(_why(error)) from None


def _json(raw: str) -> object:
    try:
        return from_json(raw, allow_inf_nan=False)
    except ValueError:
        raise Malformed("not JSON") from None


def _why(error: ValidationError) -> str:
    """Where the body went wrong, in a few words: the field and pydantic's error type
    (never the value, which is someone else's text)."""
    first = error.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in first["loc"][1:]) or "body"
    return f"{where}: {first['type']}"[:200]


def bolt_body(parsed: SlackRequest) -> dict[str, object]:
    """The body Bolt sees: only the fields Repobox and Bolt's matchers use, each typed."""
    return parsed.model_dump(exclude_none=True)


def place(parsed: SlackRequest) -> tuple[str | None, str | None, str | None]:
    """(team, channel, user) of a request, for the allow-lists."""
    if isinstance(parsed, SlashCommand):
        return parsed.team_id, parsed.channel_id, parsed.user_id
    if isinstance(parsed, Interaction):
        return parsed.team_id, parsed.channel_id, parsed.user.id
    if isinstance(parsed, EventCallback):
        return parsed.team_id, parsed.event.channel, parsed.event.user
    return None, None, None
