"""Progress events: small typed records in one capped Redis stream per session.

Jobs and agents only append; readers (the CLI's watch, surface relays, the live page)
replay from the start or from an event id and then block on XREAD for new ones, so
nothing polls.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, cast

from redis import Redis

from bot.core import keys
from bot.core.redisio import as_str, str_fields

STREAM_MAX_LEN = 20_000
ARCHIVED_TTL = 7 * 24 * 3600


class EventKind(StrEnum):
    STATE = "state"  # the session's state changed (text: the new state)
    QUEUED = "queued"  # a prompt or ship is waiting (data.position)
    STARTED = "started"  # a prompt run or ship began
    STEP = "step"  # an agent step: tool call, edit, command (text is for people)
    OUTPUT = "output"  # one line of output (data.stream: stdout|stderr)
    TEXT = "text"  # the model's prose
    RESULT = "result"  # a run ended well: summary, files, tokens, cost, diffstat
    SHIPPED = "shipped"  # pushed; data.url is the merge request, if any
    ERROR = "error"  # something failed; text is for people
    CANCELLED = "cancelled"
    INFO = "info"  # anything else worth a line (workdir ready, no changes …)
    WARNING = "warning"  # worth a look, but the run goes on (a refused tool call …)


TERMINAL_KINDS = frozenset(
    {EventKind.RESULT, EventKind.ERROR, EventKind.CANCELLED, EventKind.SHIPPED}
)


@dataclass(frozen=True)
class ProgressEvent:
    kind: EventKind
    text: str = ""
    prompt_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.time)
    id: str | None = None  # the stream id, once stored

    @property
    def ends_prompt(self) -> bool:
        """Whether this ends its prompt; a comparison's candidate ending ends only itself."""
        return self.kind in TERMINAL_KINDS and self.candidate is None

    @property
    def candidate(self) -> int | None:
        """The comparison candidate (its number) this event belongs to, if any."""
        number = self.data.get("candidate")
        return number if isinstance(number, int) and not isinstance(number, bool) else None

    def to_fields(self) -> dict[str, str]:
        return {
            "kind": self.kind.value,
            "text": self.text,
            "prompt": self.prompt_id or "",
            "data": json.dumps(self.data, separators=(",", ":")),
            "at": repr(self.at),
        }

    def flat(self) -> list[str]:
        """The fields as XADD takes them in Lua: name, value, name, value …"""
        return [part for pair in self.to_fields().items() for part in pair]

    @classmethod
    def from_fields(cls, event_id: str, raw: dict[str, str]) -> ProgressEvent:
        return cls(
            kind=EventKind(raw["kind"]),
            text=raw.get("text", ""),
            prompt_id=raw.get("prompt") or None,
            data=json.loads(raw.get("data") or "{}"),
            at=float(raw.get("at") or 0),
            id=event_id,
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "text": self.text,
            "prompt": self.prompt_id,
            "data": self.data,
            "at": self.at,
        }


def encoded(*events: ProgressEvent) -> str:
    """Events for a Lua script to append (`bot.sessions.scripts`): a JSON list of their
    flat fields, so a script never spells an event field of its own."""
    return json.dumps([event.flat() for event in events])


# XREAD's answer: per stream, its entries (id, fields), all bytes.
Entries = list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]]


def entries(answer: object) -> list[ProgressEvent]:
    """The events of an XREAD answer (None when it timed out): what both streams read."""
    found = cast("Entries", answer or [])
    return [
        ProgressEvent.from_fields(as_str(event_id), str_fields(raw))
        for _stream, batch in found
        for event_id, raw in batch
    ]


class ProgressStream:
    """The session's stream: append, read a page, follow live."""

    def __init__(self, redis: Redis, session_id: str) -> None:
        self.redis = redis
        self.session_id = session_id
        self.key = keys.events(session_id)

    def append(self, event: ProgressEvent) -> str:
        event_id = self.redis.xadd(
            self.key,
            event.to_fields(),  # type: ignore[arg-type]
            maxlen=STREAM_MAX_LEN,
            approximate=True,
        )
        return as_str(event_id)

    def emit(
        self, kind: EventKind, text: str = "", prompt_id: str | None = None, **data: object
    ) -> str:
        return self.append(ProgressEvent(kind, text, prompt_id, data))

    def read(
        self, after: str = "0", count: int = 500, block_ms: int | None = None
    ) -> list[ProgressEvent]:
        """Events after the id `after` ("0" for the start); block up to `block_ms` if none yet."""
        return entries(self.redis.xread({self.key: after}, count=count, block=block_ms))

    def last_id(self) -> str:
        """The id of the newest event, or "0": follow from here to see only new events."""
        newest = cast("list[tuple[bytes, object]]", self.redis.xrevrange(self.key, count=1))
        return as_str(newest[0][0]) if newest else "0"

    def follow(
        self, after: str = "0", *, block_ms: int = 5_000, stop_after: float | None = None
    ) -> Iterator[ProgressEvent]:
        """Replay, then yield new events as they arrive (until `stop_after` seconds idle)."""
        cursor = after
        idle_since = time.monotonic()
        while True:
            events = self.read(cursor, block_ms=block_ms)
            if not events:
                if stop_after is not None and time.monotonic() - idle_since > stop_after:
                    return
                continue
            idle_since = time.monotonic()
            for event in events:
                cursor = event.id or cursor
                yield event

    def expire(self, seconds: int = ARCHIVED_TTL) -> None:
        """Keep an archived session's log for a while, then let Redis drop it."""
        self.redis.expire(self.key, seconds)
