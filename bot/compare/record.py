"""Where a comparison's candidates are, between the comparison and `pick`.

Stored in Redis (one JSON value per session), so `pick` on any worker finds the workdirs,
and the live page shows each candidate's diff and the diffs between candidates without a
workdir. Patches are capped like the session's own diff.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from bot.core import keys
from bot.core.redisio import as_str

PATCH_LIMIT = 200_000


@dataclass(frozen=True)
class Fork:
    number: int
    label: str
    workdir: str
    commit: str | None  # its checkpoint; None when it changed nothing
    patch: str = ""  # against the comparison's base
    truncated: bool = False


@dataclass(frozen=True)
class CompareRecord:
    prompt_id: str
    base_commit: str
    forks: tuple[Fork, ...] = ()
    between: dict[str, str] = field(default_factory=dict)  # "1-2" -> patch from 1 to 2

    def fork(self, number: int) -> Fork | None:
        return next((f for f in self.forks if f.number == number), None)

    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps(data)

    @classmethod
    def from_json(cls, raw: str) -> CompareRecord:
        data = json.loads(raw)
        return cls(
            prompt_id=str(data["prompt_id"]),
            base_commit=str(data["base_commit"]),
            forks=tuple(Fork(**f) for f in data.get("forks") or []),
            between={str(k): str(v) for k, v in (data.get("between") or {}).items()},
        )


def capped(patch: str) -> tuple[str, bool]:
    return patch[:PATCH_LIMIT], len(patch) > PATCH_LIMIT


def save(redis: Redis, session_id: str, record: CompareRecord) -> None:
    redis.set(keys.comparison(session_id), record.to_json())


def load(redis: Redis, session_id: str) -> CompareRecord | None:
    raw = redis.get(keys.comparison(session_id))
    return CompareRecord.from_json(as_str(raw)) if raw else None


async def load_async(redis: AsyncRedis, session_id: str) -> CompareRecord | None:
    """`load` from the event loop (the live page shows the candidates' diffs)."""
    raw = await redis.get(keys.comparison(session_id))
    return CompareRecord.from_json(as_str(raw)) if raw else None


def drop(redis: Redis, session_id: str) -> None:
    redis.delete(keys.comparison(session_id))
