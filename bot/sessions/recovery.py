"""The watchdog's changes of state: taking over a dead run's lease, and settling a session
shown "running" with nothing running. Each is one script (`bot.sessions.scripts`), so a
run that was only stalled, or a drain starting meanwhile, never sees half of one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

from redis import Redis

from bot.core import keys
from bot.core.dispatch import job_pending
from bot.core.redisio import as_str
from bot.sessions import scripts
from bot.sessions.events import STREAM_MAX_LEN, EventKind, ProgressEvent, encoded
from bot.sessions.prompts import PromptState
from bot.sessions.runstate import settle_rule
from bot.sessions.scripts import stored
from bot.sessions.session import SessionState


class Found(StrEnum):
    LOST = "lost"  # it ran: its failure is for the new lease's holder to record
    REQUEUED = "requeued"  # taken but never started: back at the head of the queue


@dataclass(frozen=True)
class Claimed:
    """A dead run's prompt, and the lease token that now fences it."""

    found: Found
    prompt_id: str
    token: str


class Recovery:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._claim = redis.register_script(scripts.CLAIM)
        self._claim_dead = redis.register_script(scripts.CLAIM_DEAD)
        self._repair = redis.register_script(scripts.REPAIR_RUNNING)

    def active(self) -> list[str]:
        """Ids of sessions with a prompt in their running slot."""
        return [as_str(s) for s in self.redis.smembers(keys.active_runs())]

    def claim(self, session_id: str, dead_token: str | None = None) -> Claimed | None:
        """Take the lease of a run nobody holds (its heartbeat stopped); None when it is
        held or nothing runs. `dead_token`: the lease of a holder known to be dead (its
        worker exited), taken over at once rather than when its heartbeat expires."""
        script = self._claim if dead_token is None else self._claim_dead
        extra = [] if dead_token is None else [dead_token]
        claimed = script(
            keys=[
                keys.run_lock(session_id),
                keys.running(session_id),
                keys.active_runs(),
                keys.lease(session_id),
                keys.queue(session_id),
            ],
            args=[session_id, keys.prompt(""), stored(PromptState.QUEUED), *extra],
        )
        if not claimed:
            return None
        found, prompt_id, token = (as_str(v) for v in claimed)
        return Claimed(Found(found), prompt_id, token)

    def active_since(self, since: float) -> list[str]:
        """Ids of open sessions active since `since` (epoch seconds)."""
        return [as_str(s) for s in self.redis.zrangebyscore(keys.sessions_index(), since, "+inf")]

    def repair(self, session_id: str, message: str) -> SessionState | None:
        """Settle a session shown running with nothing running and nobody holding it,
        saying `message`; the state it settled in, or None when it needed no repair."""
        now = time.time()
        told = ProgressEvent(EventKind.INFO, message, None, {"repaired": True}, at=now)
        settled = self._repair(
            keys=[
                keys.session(session_id),
                keys.running(session_id),
                keys.run_lock(session_id),
                keys.events(session_id),
            ],
            args=[STREAM_MAX_LEN, encoded(told), settle_rule(None, now)],
        )
        return SessionState(as_str(settled)) if settled else None

    def orphaned(self, session_id: str, pause: float) -> bool:
        """Whether prompts wait with nothing running and nobody holding the session, and
        nobody kicked its queue in the last `pause` seconds (then this caller kicks it)."""
        pipe = self.redis.pipeline()
        pipe.llen(keys.queue(session_id))
        pipe.llen(keys.running(session_id))
        pipe.exists(keys.run_lock(session_id))
        pipe.get(keys.drain_job(session_id))
        waiting, running, locked, drain = pipe.execute()
        if not waiting or running or locked:
            return False
        if drain is not None and job_pending(self.redis, as_str(drain)):
            return False  # its drain job waits in the queue: in line, not orphaned
        kick = keys.resume_kick(session_id)
        return bool(self.redis.set(kick, "1", nx=True, ex=int(pause)))
