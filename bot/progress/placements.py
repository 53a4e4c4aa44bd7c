"""Where a surface shows a session's prompts, kept for it by the relay.

A surface needs to remember, between relay calls and across jobs, where each prompt's
view went (a Slack message ts, a forge comment id, a stream) and a few fields of its own
(Slack's card, the forge's held-back edits). The relay loads that before it calls the
sink and saves it afterwards, under the session's lock, so a sink gets and changes plain
values and never touches Redis. Each prompt is one field of a per-session hash, written
only when it changed: a long session does not rewrite every prompt on every pass.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, Self, TypeVar

from redis import Redis
from redis.lock import Lock

from bot.core import keys
from bot.core.redisio import as_str, str_fields
from bot.sessions import scripts

log = logging.getLogger(__name__)

STATE_TTL = 30 * 24 * 3600  # renewed on every save; an archived session's state goes later
FIELDS, ORDER, PROMPT = "fields", "order", "prompt:"


class Record(Protocol):
    """A small value stored as JSON (rq's `to_dict`/`from_dict` convention)."""

    def to_dict(self) -> dict[str, object]: ...

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Self: ...


P = TypeVar("P", bound=Record)
S = TypeVar("S", bound=Record)


@dataclass
class NoFields:
    """The surface-wide fields of a surface that keeps none."""

    def to_dict(self) -> dict[str, object]:
        return {}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> NoFields:
        return cls()


@dataclass
class Placements(Generic[P, S]):
    """One surface's memory of one session: a placement per prompt, in the order they
    appeared, and the surface's own fields."""

    fields: S
    prompts: dict[str, P] = field(default_factory=dict)


# Saves what the turn has placed so far, at once: called right after posting something
# that must never be posted twice, whatever happens later in the turn.
Keep = Callable[[], None]


class PlacementStore(Generic[P, S]):
    """Loads and saves one surface's `Placements` of one session."""

    def __init__(
        self,
        redis: Redis,
        session_id: str,
        surface: str,
        placement: type[P],
        fields: type[S],
        fence: Lock | None = None,
    ) -> None:
        """`fence`: the relay's lock; saves land only while it holds it."""
        self.redis = redis
        self.key = keys.surface_state(session_id, surface)
        self.placement = placement
        self.fields = fields
        self.fence = fence
        self._saved: dict[str, str] = {}  # field -> JSON as last loaded or saved
        self._script = redis.register_script(scripts.FENCED_SAVE)  # only while fenced

    def load(self) -> Placements[P, S]:
        raw = str_fields(self.redis.hgetall(self.key))
        self._saved = dict(raw)
        self._saved.setdefault(FIELDS, _dump(self.fields.from_dict({}).to_dict()))
        self._saved.setdefault(ORDER, "[]")
        order = json.loads(raw.get(ORDER, "[]"))
        found = [name[len(PROMPT) :] for name in raw if name.startswith(PROMPT)]
        found.sort(key=lambda p: order.index(p) if p in order else len(order))
        prompts = {p: self.placement.from_dict(json.loads(raw[PROMPT + p])) for p in found}
        return Placements(self.fields.from_dict(_fields(raw)), prompts)

    def save(self, placements: Placements[P, S]) -> bool:
        """Write what changed since the last load or save; False when the fence refused."""
        now = {FIELDS: _dump(placements.fields.to_dict()), ORDER: _dump(list(placements.prompts))}
        for prompt_id, placement in placements.prompts.items():
            now[PROMPT + prompt_id] = _dump(placement.to_dict())
        changed = {k: v for k, v in now.items() if self._saved.get(k) != v}
        if not changed:
            return True
        token, lock_key = "", self.key  # no fence: always write
        if self.fence is not None:
            held = self.fence.local.token
            # not holding it: a token no lock ever has, so the script refuses
            token, lock_key = (as_str(held) if held else "\n"), str(self.fence.name)
        args = [token, str(STATE_TTL), *(part for pair in changed.items() for part in pair)]
        if not self._script(keys=[lock_key, self.key], args=args):
            log.warning("placements of %s not saved: the relay lock was lost", self.key)
            return False
        self._saved.update(changed)
        return True


def _fields(raw: dict[str, str]) -> dict[str, object]:
    """The surface's own fields; from a hash saved before there was a `fields` field
    (Slack kept its card and cursor as fields of their own), those fields."""
    if FIELDS in raw:
        return dict(json.loads(raw[FIELDS]))
    return {k: _loaded(v) for k, v in raw.items() if k != ORDER and not k.startswith(PROMPT)}


def _loaded(value: str) -> object:
    try:
        return json.loads(value)
    except ValueError:
        return value  # a bare string (a stream id)


def _dump(data: object) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))
