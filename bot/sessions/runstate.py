"""A run's transitions, each one atomic step in Redis and fenced by the run's lease.

Taking a prompt, recording its outcome and handing it back each change the prompt, the
running slot, the session's state and the thread's events together in one Lua script
(`bot.sessions.scripts`), so no crash or refused write can leave a session "running" with
nothing running, or a prompt taken but not recorded. Each script first checks the lease
counter against the caller's token: a run whose lease was taken over changes nothing.
These scripts are the only writers of a prompt's state once it was queued.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from enum import IntEnum

from redis import Redis

from bot.core import keys
from bot.core.redisio import as_str
from bot.sessions import scripts
from bot.sessions.events import STREAM_MAX_LEN, EventKind, ProgressEvent, encoded
from bot.sessions.prompts import ENDINGS, Prompt, PromptState
from bot.sessions.runlock import lease_held
from bot.sessions.scripts import stored
from bot.sessions.session import ALLOWED_MOVES, SessionState

# The states a run may start from: those that may move to running, and running itself (a
# queue drained again after a recovery).
STARTS_FROM = frozenset(
    {s for s, moves in ALLOWED_MOVES.items() if SessionState.RUNNING in moves}
    | {SessionState.RUNNING}
)


class Taken(IntEnum):
    FENCED = -1  # the lease was taken over: stop
    EMPTY = 0
    RUNNING = 1
    CLOSED = 2  # the session was closed: the item was cancelled, not run


@dataclass(frozen=True)
class Take:
    outcome: Taken
    prompt_id: str | None


def settle_rule(prompt_id: str | None, at: float) -> str:
    """The argument of the scripts' one settle rule (pushed once shipped, else ready): the
    running state as stored, and for each state a run settles in, its stored value and the
    state event that tells it."""

    def into(state: SessionState) -> dict[str, object]:
        event = ProgressEvent(EventKind.STATE, state.value, prompt_id, at=at)
        return {"name": state.value, "state": stored(state), "event": event.flat()}

    return json.dumps(
        {
            "running": stored(SessionState.RUNNING),
            "at": json.dumps(at),
            "ready": into(SessionState.READY),
            "pushed": into(SessionState.PUSHED),
        }
    )


class RunState:
    """The fenced transitions of one session's runs, for the holder of lease `token`."""

    def __init__(self, redis: Redis, session_id: str, token: str) -> None:
        self.redis = redis
        self.session_id = session_id
        self.token = token
        self._take = redis.register_script(scripts.TAKE)
        self._finish = redis.register_script(scripts.FINISH)
        self._hand_back = redis.register_script(scripts.HAND_BACK)

    def held(self) -> bool:
        """Whether nobody took the lease over (a read: it works while writes are refused)."""
        return lease_held(self.redis, self.session_id, self.token)

    def take(self, closed_reason: str) -> Take:
        """Move the oldest waiting item to running, and the session to running, together."""
        s = self.session_id
        outcome, prompt_id = self._take(
            keys=[
                keys.lease(s),
                keys.queue(s),
                keys.running(s),
                keys.session(s),
                keys.active_runs(),
                keys.cancel(s),
                keys.sessions_index(),
            ],
            args=[
                self.token,
                json.dumps(time.time()),
                s,
                keys.prompt(""),
                json.dumps(closed_reason),
                stored(SessionState.INITIALIZING),
                stored(SessionState.RUNNING),
                stored(PromptState.RUNNING),
                stored(PromptState.CANCELLED),
                *(stored(state) for state in STARTS_FROM),
            ],
        )
        return Take(Taken(int(outcome)), as_str(prompt_id) or None)

    def finish(self, prompt: Prompt, event: ProgressEvent, diff: str | None = None) -> bool:
        """Record the outcome, its event, the diff and the settled session in one step;
        False (and nothing written) if the lease was taken over.

        The prompt ends in the state its ending `event` says (`ENDINGS`, which the views
        fold too); the step that ran it sets only what it has to say (error, summary,
        result)."""
        prompt.state = ENDINGS[event.kind]
        prompt.finished_at = prompt.finished_at or time.time()
        fields = prompt.to_redis()
        state = fields.pop("state")
        now = time.time()
        s = self.session_id
        done = self._finish(
            keys=[
                keys.lease(s),
                keys.running(s),
                keys.session(s),
                keys.prompt(prompt.id),
                keys.events(s),
                keys.diff(s),
                keys.active_runs(),
                keys.sessions_index(),
            ],
            args=[
                self.token,
                prompt.id,
                state,
                json.dumps(fields),
                encoded(event),
                repr(now),
                diff or "",
                s,
                STREAM_MAX_LEN,
                settle_rule(prompt.id, now),
            ],
        )
        return int(done) == 1

    def hand_back(self, prompt: Prompt, text: str) -> bool:
        """Put the prompt back at the head of the queue (the host is stopping) and say so."""
        s = self.session_id
        event = ProgressEvent(EventKind.INFO, text, prompt.id, {"resumes": True})
        done = self._hand_back(
            keys=[
                keys.lease(s),
                keys.running(s),
                keys.session(s),
                keys.prompt(prompt.id),
                keys.events(s),
                keys.queue(s),
            ],
            args=[
                self.token,
                prompt.id,
                stored(PromptState.QUEUED),
                encoded(event),
                STREAM_MAX_LEN,
                settle_rule(prompt.id, time.time()),
            ],
        )
        return int(done) == 1
