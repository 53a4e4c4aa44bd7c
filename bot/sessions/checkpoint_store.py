"""Where a session's last checkpoint can be found by a host that does not hold its workdir.

`bundle`: a git bundle of the work branch since its base, stored in Redis (up to
REPOBOX_CHECKPOINT_BUNDLE_MAX_MB). `forge`: the work branch was pushed to the repository's
host (REPOBOX_CHECKPOINT_PUSH=1, or a shipped session). `base`: nothing to keep yet.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

from redis import Redis

from bot.core import keys
from bot.core.redisio import as_str


class Where(StrEnum):
    BUNDLE = "bundle"
    FORGE = "forge"
    BASE = "base"


@dataclass(frozen=True)
class CheckpointCopy:
    commit: str
    where: Where
    prompt_id: str
    size: int = 0  # bytes of the bundle (or of the bundle that was too big to keep)
    at: float = 0.0


class CheckpointStore:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def put(self, session_id: str, copy: CheckpointCopy, bundle: bytes | None = None) -> None:
        """Record the newest reachable checkpoint; the bundle replaces any older one."""
        key = keys.checkpoint(session_id)
        mapping: dict[str, str | bytes] = {
            "commit": copy.commit,
            "where": copy.where.value,
            "prompt_id": copy.prompt_id,
            "size": str(copy.size),
            "at": repr(copy.at or time.time()),
        }
        pipe = self.redis.pipeline()
        pipe.hdel(key, "bundle")
        if bundle is not None:
            mapping["bundle"] = bundle
        pipe.hset(key, mapping=mapping)  # type: ignore[arg-type]
        pipe.execute()

    def get(self, session_id: str) -> CheckpointCopy | None:
        raw = self.redis.hmget(
            keys.checkpoint(session_id), ["commit", "where", "prompt_id", "size", "at"]
        )
        commit, where, prompt_id, size, at = raw
        if commit is None or where is None:
            return None
        return CheckpointCopy(
            commit=as_str(commit),
            where=Where(as_str(where)),
            prompt_id=as_str(prompt_id or b""),
            size=int(as_str(size or b"0")),
            at=float(as_str(at or b"0")),
        )

    def bundle(self, session_id: str) -> bytes | None:
        raw = self.redis.hget(keys.checkpoint(session_id), "bundle")
        return bytes(raw) if isinstance(raw, bytes | bytearray) else None
