"""What the Slack sink knows about a session's messages, kept in Redis.

Any worker may relay a session's events (the set-up job, a drain job, the fast job that
posts the card), sometimes two at once, so the sink keeps no state of its own between
calls: under the relay's lock it loads this state, applies events it has not
delivered yet, and saves it. Values are small JSON objects (`to_dict`/`from_dict`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from redis import Redis

from bot import keys
from bot.progress.cursor import seen
from bot.progress.view import PromptView
from bot.redisio import as_str

log = logging.getLogger(__name__)

STATE_TTL = 30 * 24 * 3600  # renewed on every save; an archived session's state goes later


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
    stream: dict[str, Any] | None = None  # the streamed reply's writer snapshot, if streamed
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
class SinkState:
    """Everything the sink tracks for one session; `prompts` keeps arrival order."""

    session_id: str
    delivered: str = "0"  # the last stream id applied
    card: CardView = field(default_factory=CardView)
    prompts: dict[str, PromptMessage] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)  # one-shot replies already posted

    def seen(self, event_id: str | None) -> bool:
        return seen(event_id, self.delivered)

    def dirty_views(self) -> list[MessageView]:
        views: list[MessageView] = [self.card] if self.card.dirty else []
        return views + [v for v in self.prompts.values() if v.dirty]


class SinkStore:
    """Loads and saves `SinkState` (the relay's lock keeps two processes from interleaving)."""

    def __init__(self, redis: Redis, session_id: str) -> None:
        self.redis = redis
        self.session_id = session_id
        self.key = keys.surface_state(session_id, "slack")

    def load(self) -> SinkState:
        raw = {as_str(k): as_str(v) for k, v in self.redis.hgetall(self.key).items()}
        state = SinkState(self.session_id, delivered=raw.get("delivered", "0"))
        if "card" in raw:
            state.card = CardView.from_dict(json.loads(raw["card"]))
        state.notices = json.loads(raw.get("notices", "[]"))
        views = [
            PromptMessage.from_dict(json.loads(value))
            for name, value in raw.items()
            if name.startswith("prompt:")
        ]
        order = json.loads(raw.get("order", "[]"))
        views.sort(key=lambda v: order.index(v.prompt_id) if v.prompt_id in order else len(order))
        state.prompts = {v.prompt_id: v for v in views}
        return state

    def save(self, state: SinkState) -> None:
        mapping = {
            "delivered": state.delivered,
            "card": json.dumps(state.card.to_dict()),
            "notices": json.dumps(state.notices),
            "order": json.dumps(list(state.prompts)),
        }
        for prompt_id, view in state.prompts.items():
            mapping[f"prompt:{prompt_id}"] = json.dumps(view.to_dict())
        pipe = self.redis.pipeline()
        pipe.hset(self.key, mapping=mapping)  # type: ignore[arg-type]
        pipe.expire(self.key, STATE_TTL)
        pipe.execute()
