"""Sessions: one repository, one work branch, one workdir, bound to one thread.

A session is a Redis hash with one JSON value per field, so a worker and the web process
can each change the fields they own without overwriting the other's. State changes go
through `SessionStore.transition`, which checks the move atomically in Redis.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any

from redis import Redis

from bot.core import keys
from bot.core.errors import Conflict, NotFound
from bot.core.redisio import as_str
from bot.sessions.merge_request import MergeRequestRef
from bot.sessions.thread_context import ThreadContext


class SessionState(StrEnum):
    INITIALIZING = "initializing"
    READY = "ready"
    RUNNING = "running"
    PUSHED = "pushed"
    ARCHIVED = "archived"
    FAILED = "failed"


ALLOWED_MOVES: dict[SessionState, frozenset[SessionState]] = {
    SessionState.INITIALIZING: frozenset({SessionState.READY, SessionState.FAILED}),
    SessionState.READY: frozenset({SessionState.RUNNING}),
    SessionState.RUNNING: frozenset({SessionState.READY, SessionState.PUSHED}),
    SessionState.PUSHED: frozenset({SessionState.RUNNING}),
    SessionState.FAILED: frozenset(),
    SessionState.ARCHIVED: frozenset(),
}
# Archiving is allowed from every state but itself; the run is cancelled first.
for _state, _moves in list(ALLOWED_MOVES.items()):
    if _state is not SessionState.ARCHIVED:
        ALLOWED_MOVES[_state] = _moves | {SessionState.ARCHIVED}

ACCEPTS_PROMPTS = frozenset(
    {SessionState.INITIALIZING, SessionState.READY, SessionState.RUNNING, SessionState.PUSHED}
)


@dataclass(frozen=True)
class Thread:
    """Where a session lives on its surface; `key` is unique within the surface."""

    surface: str
    key: str
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Thread:
        return cls(surface=str(data["surface"]), key=str(data["key"]), url=data.get("url"))


@dataclass(frozen=True)
class Person:
    """Who asked; `email` feeds the checkpoint's Co-authored-by trailer when known."""

    id: str
    name: str
    email: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Person:
        return cls(id=str(data["id"]), name=str(data["name"]), email=data.get("email"))

    @property
    def co_author(self) -> str:
        email = self.email or f"{self.id}@users.noreply.repobox"
        return f"{self.name} <{email}>"


@dataclass
class Session:
    id: str
    repo: str
    provider: str
    project: str
    base_branch: str | None
    work_branch: str
    thread: Thread
    created_by: Person
    state: SessionState = SessionState.INITIALIZING
    title: str = ""
    base_commit: str | None = None
    workdir: str | None = None
    context: ThreadContext | None = None  # forge sessions: the issue/MR worked on
    merge_request: MergeRequestRef | None = None
    # Instruction files (AGENTS.md, …) read at set-up from the target branch, so a run cannot
    # rewrite its own instructions; None: not read yet.
    instructions: dict[str, str] | None = None
    pushed_commit: str | None = None
    clone_url: str | None = None
    host: str | None = None  # the machine whose workers hold the workdir
    agent_conversation: str | None = None  # Claude Code's session id, resumed by each run
    error: str | None = None
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)

    @staticmethod
    def new_id() -> str:
        return secrets.token_hex(4)

    @property
    def shipped(self) -> bool:
        return self.pushed_commit is not None

    @property
    def settled_state(self) -> SessionState:
        """The state between runs: pushed once shipped, ready before."""
        return SessionState.PUSHED if self.shipped else SessionState.READY

    def to_redis(self) -> dict[str, str]:
        """One JSON value per field (the hash layout in Redis)."""
        out: dict[str, str] = {}
        for f in fields(self):
            out[f.name] = _json(getattr(self, f.name))
        return out

    @classmethod
    def from_redis(cls, raw: dict[str, str]) -> Session:
        data = {name: json.loads(value) for name, value in raw.items()}
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in data.items() if k in known}
        data["thread"] = Thread.from_dict(data["thread"])
        data["created_by"] = Person.from_dict(data["created_by"])
        data["state"] = SessionState(data["state"])
        context = data.get("context") or {}
        if data.get("instructions") is None and isinstance(context.get("instructions"), dict):
            data["instructions"] = context["instructions"]  # stored inside `context` before
        data["context"] = ThreadContext.from_dict(context)
        data["merge_request"] = MergeRequestRef.from_dict(data.get("merge_request"))
        return cls(**data)


def _json(value: Any) -> str:
    """One field as stored: typed values by their `to_dict`, the rest as they are."""
    if isinstance(value, Thread | Person | ThreadContext | MergeRequestRef):
        value = value.to_dict()
    return json.dumps(value)


# Moves the state only if the current one is among the allowed sources. KEYS[1]: the hash.
# ARGV: new state (JSON), updated_at (JSON), then the allowed source states (JSON).
# The sync store (workers) and the async one (the web process) run this same text.
TRANSITION = """
local current = redis.call('HGET', KEYS[1], 'state')
if not current then return {0, ''} end
for i = 3, #ARGV do
  if ARGV[i] == current then
    redis.call('HSET', KEYS[1], 'state', ARGV[1], 'updated_at', ARGV[2])
    return {1, current}
  end
end
return {0, current}
"""


def decoded(session_id: str, raw: dict[Any, Any]) -> Session:
    """A session from its hash as Redis answers it (bytes); `NotFound` when there is none."""
    if not raw:
        raise NotFound(f"There is no session `{session_id}`.")
    return Session.from_redis({as_str(k): as_str(v) for k, v in raw.items()})


def present(found: list[dict[Any, Any]]) -> list[Session]:
    """Sessions from hashes read together, skipping an expired one whose index entry
    retention has not swept yet."""
    return [
        Session.from_redis({as_str(k): as_str(v) for k, v in raw.items()}) for raw in found if raw
    ]


def transition_args(to: SessionState, allowed_from: frozenset[SessionState] | None) -> list[str]:
    """ARGV of `TRANSITION`: to `to` from the given states (default: the state machine's)."""
    sources = allowed_from or frozenset(s for s, moves in ALLOWED_MOVES.items() if to in moves)
    return [json.dumps(to.value), json.dumps(time.time()), *(json.dumps(s.value) for s in sources)]


def moved_from(session_id: str, to: SessionState, moved: object, current: object) -> SessionState:
    """What `TRANSITION` answered: the state it moved from, or why it did not move."""
    if not current:
        raise NotFound(f"There is no session `{session_id}`.")
    previous = SessionState(json.loads(as_str(current)))
    if not moved:
        raise Conflict(f"The session is {previous.value}; it cannot become {to.value}.")
    return previous


class SessionStore:
    """Sessions in Redis: create, get, update fields, move state, find by thread, list."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._transition = redis.register_script(TRANSITION)

    def create(self, session: Session) -> bool:
        """Store a new session bound to its thread; False if that thread already has one."""
        thread_key = keys.thread(session.thread.surface, session.thread.key)
        if not self.redis.set(thread_key, session.id, nx=True):
            return False
        pipe = self.redis.pipeline()
        pipe.hset(keys.session(session.id), mapping=session.to_redis())  # type: ignore[arg-type]
        pipe.zadd(keys.sessions_index(), {session.id: session.updated_at})
        pipe.execute()
        return True

    def get(self, session_id: str) -> Session:
        return decoded(session_id, self.redis.hgetall(keys.session(session_id)))

    def find_by_thread(self, surface: str, thread_key: str) -> Session | None:
        session_id = self.redis.get(keys.thread(surface, thread_key))
        if session_id is None:
            return None
        try:
            return self.get(as_str(session_id))
        except NotFound:
            return None

    def update(self, session_id: str, **values: Any) -> None:
        """Set some fields (never `state`: that goes through `transition`)."""
        if "state" in values:
            raise ValueError("use transition() to change a session's state")
        now = time.time()
        mapping = {name: _json(v) for name, v in values.items()}
        mapping["updated_at"] = json.dumps(now)
        pipe = self.redis.pipeline()
        pipe.hset(keys.session(session_id), mapping=mapping)  # type: ignore[arg-type]
        pipe.zadd(keys.sessions_index(), {session_id: now}, xx=True)  # archived ones stay out
        pipe.execute()

    def touch(self, session_id: str) -> None:
        """Mark activity, which keeps an idle session from being archived."""
        self.redis.zadd(keys.sessions_index(), {session_id: time.time()}, xx=True)

    def transition(
        self,
        session_id: str,
        to: SessionState,
        *,
        allowed_from: frozenset[SessionState] | None = None,
    ) -> SessionState:
        """Move to `to` if the state machine allows it; return the state it moved from."""
        moved, current = self._transition(
            keys=[keys.session(session_id)], args=transition_args(to, allowed_from)
        )
        previous = moved_from(session_id, to, moved, current)
        self.touch(session_id)
        return previous

    def recent(self, *, include_archived: bool = False, limit: int = 100) -> list[Session]:
        """Sessions, most recently active first: open ones, then (if asked) archived ones.

        Reads one page of each index, never every session ever made."""
        found = [
            s
            for s in self.page(archived=False, count=limit)
            if s.state is not SessionState.ARCHIVED
        ]
        if include_archived and len(found) < limit:
            found += self.page(archived=True, count=limit - len(found))
        return found

    def page(self, *, archived: bool, start: int = 0, count: int = 50) -> list[Session]:
        """One page of open sessions by last activity, or of archived ones by archive time."""
        index = keys.archived_index() if archived else keys.sessions_index()
        ids = [as_str(i) for i in self.redis.zrevrange(index, start, start + count - 1)]
        pipe = self.redis.pipeline(transaction=False)
        for session_id in ids:
            pipe.hgetall(keys.session(session_id))
        return present(pipe.execute() if ids else [])

    def count(self, *, archived: bool) -> int:
        return int(self.redis.zcard(keys.archived_index() if archived else keys.sessions_index()))

    def mark_archived(self, session_id: str, at: float | None = None) -> None:
        """Move the session from the open index to the archived one (retention reads it)."""
        pipe = self.redis.pipeline()
        pipe.zrem(keys.sessions_index(), session_id)
        pipe.zadd(keys.archived_index(), {session_id: at or time.time()})
        pipe.execute()

    def idle_since(self, cutoff: float) -> list[str]:
        """Ids of sessions with no activity since `cutoff` (epoch seconds)."""
        return [as_str(i) for i in self.redis.zrangebyscore(keys.sessions_index(), 0, cutoff)]

    def bind_thread(self, session_id: str, thread: Thread) -> bool:
        """Move the session to another thread of its surface (e.g. once a surface has posted
        the parent message the session lives under); False if that thread is taken."""
        session = self.get(session_id)
        new_key = keys.thread(thread.surface, thread.key)
        if not self.redis.set(new_key, session_id, nx=True):
            current = self.redis.get(new_key)
            return current is not None and as_str(current) == session_id
        self.update(session_id, thread=thread)
        self.release_thread(session)
        return True

    def release_thread(self, session: Session) -> None:
        """Unbind the thread so a new session can start there (after archiving)."""
        thread_key = keys.thread(session.thread.surface, session.thread.key)
        current = self.redis.get(thread_key)
        if current is not None and as_str(current) == session.id:
            self.redis.delete(thread_key)
