"""The per-session queue of work: prompts to run and ships, in arrival order.

Ships go through the same queue as prompts, so `ship it` typed during a run ships after
it, with the run's commit. The queue is a reliable one: an item moves atomically from the
waiting list to a one-item `running` list and leaves it only when finished, so a worker
dying mid-run never loses it (the watchdog finds it there).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum

from redis import Redis

from bot.core import dedupe, keys
from bot.core.dispatch import safe_id
from bot.core.errors import NotFound
from bot.core.redisio import Hash, as_str, str_fields
from bot.sessions import scripts
from bot.sessions.events import EventKind
from bot.sessions.origin import Origin, origin_from_dict, origin_to_dict
from bot.sessions.results import RunResult
from bot.sessions.scripts import stored
from bot.sessions.session import Person


class Action(StrEnum):
    RUN = "run"
    SHIP = "ship"
    UNDO = "undo"  # take back the last checkpoint (bot.git.undo)
    COMPARE = "compare"  # the prompt once per candidate, side by side (bot.compare)
    PICK = "pick"  # adopt one candidate of the last comparison


class PromptState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


# The state a prompt ends in, by the event that ends it: what `RunState.finish` records and
# what every view folds (`bot.progress.view`), so the two never disagree.
ENDINGS = {
    EventKind.RESULT: PromptState.DONE,
    EventKind.SHIPPED: PromptState.DONE,
    EventKind.ERROR: PromptState.FAILED,
    EventKind.CANCELLED: PromptState.CANCELLED,
}


@dataclass
class Prompt:
    id: str
    session_id: str
    seq: int
    action: Action
    text: str
    author: Person
    state: PromptState = PromptState.QUEUED
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    summary: str | None = None
    result: RunResult | None = None  # what the run or ship produced, once it ended
    error: str | None = None
    origin: Origin | None = None  # where it was typed (stored tagged; see bot.sessions.origin)
    candidates: list[str] = field(default_factory=list)  # a comparison's, as named
    pick: int | None = None  # the candidate a pick adopts (from 1)

    def to_redis(self) -> dict[str, str]:
        data = asdict(self)
        data["result"] = self.result.to_dict() if self.result is not None else None
        data["origin"] = origin_to_dict(self.origin)
        return {name: json.dumps(value) for name, value in data.items()}

    @classmethod
    def from_redis(cls, raw: dict[str, str]) -> Prompt:
        data = {name: json.loads(value) for name, value in raw.items()}
        data["author"] = Person.from_dict(data["author"])
        data["action"] = Action(data["action"])
        data["state"] = PromptState(data["state"])
        data["result"] = RunResult.from_dict(data["result"]) if data.get("result") else None
        data["origin"] = origin_from_dict(data.get("origin"))
        return cls(**data)


@dataclass(frozen=True)
class Submitted:
    """What `submit` did: the prompt, its place in the queue (1 = next), and if it was new."""

    prompt: Prompt
    position: int
    created: bool


def submission(
    session_id: str,
    action: Action,
    text: str,
    author: Person,
    request_id: str,
    origin: Origin | None,
    *,
    candidates: Sequence[str] = (),
    pick: int | None = None,
) -> tuple[list[str], list[str | int]]:
    """KEYS and ARGV of `scripts.SUBMIT` for one new prompt (its id derives from the request)."""
    prompt_id = f"{session_id}-{safe_id(request_id, limit=80)}"  # fits in job ids
    prompt = Prompt(
        prompt_id,
        session_id,
        0,
        action,
        text,
        author,
        origin=origin,
        candidates=list(candidates),
        pick=pick,
    )
    names = [
        keys.request(request_id),
        keys.prompt(prompt_id),
        keys.prompts(session_id),
        keys.queue(session_id),
    ]
    return names, [prompt_id, json.dumps(prompt.to_redis()), dedupe.PROMPT_TTL]


def decoded(prompt_id: str, raw: Hash) -> Prompt:
    """A prompt from its hash as Redis answers it (bytes); `NotFound` when there is none."""
    if not raw:
        raise NotFound(f"There is no prompt `{prompt_id}`.")
    return Prompt.from_redis(str_fields(raw))


def place(index: int | None, busy: bool) -> int:
    """1 for the next to run (or 0 if it is running or finished); counts the running one.
    `index`: the prompt's in the waiting list (`LPOS`), None when it is not there."""
    return index + 1 + int(busy) if index is not None else 0


def dropping(session_id: str, reason: str) -> tuple[list[str], list[str]]:
    """KEYS and ARGV of `scripts.DROP_WAITING`: cancel what waits, saying why."""
    now = json.dumps(time.time())
    args = [keys.prompt(""), stored(PromptState.CANCELLED), json.dumps(reason), now]
    return [keys.queue(session_id)], args


class PromptQueue:
    """The queue as workers use it: read, and drop what waits; prompts are submitted from
    the web process's loop (`bot.sessions.async_prompts`), taken and finished under the
    run's lease (`bot.sessions.runstate`), all by the scripts of `bot.sessions.scripts`."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._drop = redis.register_script(scripts.DROP_WAITING)

    def get(self, prompt_id: str) -> Prompt:
        return decoded(prompt_id, self.redis.hgetall(keys.prompt(prompt_id)))

    def revise(self, prompt: Prompt) -> None:
        """Rewrite a finished prompt's summary and result (a pick records the candidate it
        adopted); its state stays the scripts' to change."""
        fields = prompt.to_redis()
        revised = {"summary": fields["summary"], "result": fields["result"]}
        self.redis.hset(keys.prompt(prompt.id), mapping=revised)  # type: ignore[arg-type]

    def running(self, session_id: str) -> Prompt | None:
        prompt_id = self.redis.lindex(keys.running(session_id), 0)
        return self.get(as_str(prompt_id)) if prompt_id is not None else None

    def waiting(self, session_id: str) -> list[Prompt]:
        return [self.get(as_str(p)) for p in self.redis.lrange(keys.queue(session_id), 0, -1)]

    def has_waiting(self, session_id: str) -> bool:
        return bool(self.redis.llen(keys.queue(session_id)))

    def history(self, session_id: str) -> list[Prompt]:
        """Every item of the session, oldest first."""
        return [self.get(as_str(p)) for p in self.redis.lrange(keys.prompts(session_id), 0, -1)]

    def drop_waiting(self, session_id: str, reason: str) -> list[Prompt]:
        """Cancel every waiting item (cancel and archive), in one step; returns them."""
        names, args = dropping(session_id, reason)
        return [self.get(as_str(p)) for p in self._drop(keys=names, args=args)]
