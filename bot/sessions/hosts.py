"""Worker hosts: which machines are alive, how much disk each has, which sessions live there.

Every worker process beats for its host (REPOBOX_HOST) four times per REPOBOX_HOST_TIMEOUT:
a key with that TTL, plus the last beat in a hash of every host ever seen. A host whose key
has expired is lost, and jobs/hosts.py moves its sessions to a live one. Several workers of
one host beat for it together, so the host counts as alive while any of them is.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from bot.core import keys
from bot.core.redisio import as_str

BEATS_PER_TIMEOUT = 4


@dataclass(frozen=True)
class Beat:
    """One heartbeat of a host: when, and the free space on its data dir."""

    host: str
    at: float
    free_mb: float

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str) -> Beat:
        data = json.loads(raw)
        return cls(host=str(data["host"]), at=float(data["at"]), free_mb=float(data["free_mb"]))


async def live_beat(redis: AsyncRedis, host: str) -> Beat | None:
    """The host's newest beat while it is alive (as `HostRegistry` reads them), from the
    event loop: None when it never beat or is lost."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hget(keys.hosts(), host)
        pipe.exists(keys.host(host))
        raw, alive = await pipe.execute()
    return Beat.from_json(as_str(raw)) if raw is not None and alive else None


class HostRegistry:
    def __init__(self, redis: Redis, timeout: float) -> None:
        self.redis = redis
        self.timeout = max(0.5, timeout)

    @property
    def interval(self) -> float:
        """How often a host beats: a quarter of the timeout, so three beats may go missing."""
        return self.timeout / BEATS_PER_TIMEOUT

    def beat(self, host: str, free_mb: float) -> None:
        beat = Beat(host, time.time(), round(free_mb, 1)).to_json()
        pipe = self.redis.pipeline()
        pipe.set(keys.host(host), beat, px=int(self.timeout * 1000))
        pipe.hset(keys.hosts(), host, beat)
        pipe.execute()

    def alive(self, host: str) -> bool:
        return bool(self.redis.exists(keys.host(host)))

    def last(self, host: str) -> Beat | None:
        """The host's newest beat, alive or not (None if it never beat)."""
        raw = self.redis.hget(keys.hosts(), host)
        return Beat.from_json(as_str(raw)) if raw is not None else None

    def silent(self, host: str, *, longer_than: float) -> bool:
        """True if the host has not beaten for `longer_than` seconds (or never did)."""
        last = self.last(host)
        return last is None or time.time() - last.at > longer_than

    def lost(self) -> list[str]:
        """Hosts that beat once and whose heartbeat has since expired."""
        known = [as_str(h) for h in self.redis.hkeys(keys.hosts())]
        return [host for host in known if not self.alive(host)]

    def forget(self, host: str) -> None:
        """Drop a lost host once nothing lives there any more (it re-registers if it returns)."""
        self.redis.hdel(keys.hosts(), host)

    def pin(self, host: str, session_id: str) -> None:
        self.redis.sadd(keys.host_sessions(host), session_id)

    def unpin(self, host: str, session_id: str) -> None:
        self.redis.srem(keys.host_sessions(host), session_id)

    def pinned(self, host: str) -> list[str]:
        return sorted(as_str(s) for s in self.redis.smembers(keys.host_sessions(host)))
