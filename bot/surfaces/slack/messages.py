"""What the Slack sink knows about a session's messages, kept for it by the relay.

Any worker may relay a session's events (the set-up job, a drain job, the fast job that
posts the card), sometimes two at once, so the sink keeps no state of its own between
calls: the relay loads these values before each call (under its lock) and saves them
after, and the sink applies only events it has not delivered yet. Values are small JSON
objects (`to_dict`/`from_dict`): a `PromptMessage` per prompt and `SlackFields`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bot.progress.sink import Turn
from bot.progress.view import PromptView
from bot.surfaces.slack.stream.values import WriterState


@dataclass
class MessageView:
    """A message the sink edits in place: when it was last edited, and if it is stale."""

    ts: str | None = None
    dirty: bool = False
    last_edit: float = 0.0  # wall-clock end of the last accepted post or edit

    def due(self, interval: float, now: float) -> float:
        """Seconds until this message may be edited again (0: now)."""
        return max(0.0, self.last_edit + interval - now)


@dataclass
class PromptMessage(MessageView):
    """Where one prompt's reply lives in the thread, and the view it shows."""

    view: PromptView = field(default_factory=lambda: PromptView(""))
    origin_channel: str | None = None  # the message that asked, for reactions
    origin_ts: str | None = None
    reactions: list[str] = field(default_factory=list)
    announced: bool = False  # the short reply mentioning the author was posted
    stream: WriterState | None = None  # the streamed reply's writer snapshot, if streamed
    status_at: float = 0.0  # when the thread's status line was last set for this run

    @property
    def prompt_id(self) -> str:
        return self.view.prompt_id

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in _MESSAGE_FIELDS}
        return {**data, "view": self.view.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PromptMessage:
        message = cls(**{k: v for k, v in data.items() if k in _MESSAGE_FIELDS})
        message.view = PromptView.from_dict(data.get("view") or {"prompt_id": ""})
        return message


_MESSAGE_FIELDS = [
    "ts",
    "dirty",
    "last_edit",
    "origin_channel",
    "origin_ts",
    "reactions",
    "announced",
    "stream",
    "status_at",
]


@dataclass
class CardView(MessageView):
    """The session card; its content is rendered from the session itself."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CardView:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class SlackFields:
    """What the sink keeps per session beside its prompts' messages."""

    delivered: str = "0"  # the last stream id applied
    card: CardView = field(default_factory=CardView)
    notices: list[str] = field(default_factory=list)  # one-shot replies already posted

    def to_dict(self) -> dict[str, Any]:
        return {"delivered": self.delivered, "card": self.card.to_dict(), "notices": self.notices}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SlackFields:
        card = CardView.from_dict(data.get("card") or {})
        return cls(str(data.get("delivered") or "0"), card, list(data.get("notices") or []))


Messages = Turn[PromptMessage, SlackFields]  # what the relay hands the sink on each call
