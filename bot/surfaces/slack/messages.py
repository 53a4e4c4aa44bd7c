"""What the Slack sink knows about a session's messages, kept for it by the relay.

Any worker may relay a session's events (the set-up job, a drain job, the fast job that
posts the card), sometimes two at once, so the sink keeps no state of its own between
calls: the relay loads these values before each call (under its lock) and saves them
after, and the sink applies only events it has not delivered yet. Values are small JSON
objects (`to_dict`/`from_dict`): a `PromptMessage` per prompt and `SlackFields`.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from bot.progress.sink import Turn
from bot.progress.view import PromptView


class MessageView(BaseModel):
    """A message the sink edits in place: when it was last edited, and if it is stale."""

    model_config = ConfigDict(extra="ignore")

    ts: str | None = None
    dirty: bool = False
    last_edit: float = 0.0  # wall-clock end of the last accepted post or edit

    def due(self, interval: float, now: float) -> float:
        """Seconds until this message may be edited again (0: now)."""
        return max(0.0, self.last_edit + interval - now)


class PromptMessage(MessageView):
    """Where one prompt's reply lives in the thread, and the view it shows."""

    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True)

    view: PromptView = Field(default_factory=lambda: PromptView(""), exclude=True)
    origin_channel: str | None = None  # the message that asked, for reactions
    origin_ts: str | None = None
    reactions: list[str] = []
    announced: bool = False  # the short reply mentioning the author was posted
    announce_due: bool = False  # that reply was held back by pacing: sent at the close
    stream: dict[str, object] | None = None  # the streamed reply's `StreamWriter.snapshot`
    status_at: float = 0.0  # when the thread's status line was last set for this run

    @property
    def prompt_id(self) -> str:
        return self.view.prompt_id

    def to_dict(self) -> dict[str, object]:
        return {**self.model_dump(), "view": self.view.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> PromptMessage:
        message = cls.model_validate({k: v for k, v in data.items() if k != "view"})
        view = data.get("view")
        message.view = PromptView.from_dict(view if isinstance(view, dict) else {"prompt_id": ""})
        return message


class CardView(MessageView):
    """The session card; its content is rendered from the session itself."""

    shown: str = ""  # digest of its last accepted render (`delivery.shown`)

    def to_dict(self) -> dict[str, object]:
        return self.model_dump()

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> CardView:
        return cls.model_validate(data)


class SlackFields(BaseModel):
    """What the sink keeps per session beside its prompts' messages."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    delivered: str = "0"  # the last stream id applied
    card: CardView = Field(default_factory=CardView)
    notices: list[str] = []  # one-shot replies already posted

    def to_dict(self) -> dict[str, object]:
        return self.model_dump()

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> SlackFields:
        """As saved, or as saved before placements (the card and the cursor as fields of
        their own; `null` for what was not there yet)."""
        return cls.model_validate({k: v for k, v in data.items() if v is not None})


Messages = Turn[PromptMessage, SlackFields]  # what the relay hands the sink on each call
