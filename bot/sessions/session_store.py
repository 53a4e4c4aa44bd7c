"""Sessions in Redis, for the workers: create, read, update fields, move state, bind threads.

A session is a hash with one JSON value per field (`Session.to_redis`), so a worker and
the web process can each change the fields they own without overwriting the other's.
State changes go through `transition`, which checks the move atomically in Redis
(`scripts.TRANSITION`). The web process uses the async twin, `AsyncSessionStore`, with
the same keys, scripts and decoding (the helpers below).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable

from redis import Redis

from bot.core import keys
from bot.core.errors import Conflict, NotFound
from bot.core.redisio import Hash, as_str, str_fields
from bot.sessions import scripts, starters
from bot.sessions.scripts import stored
from bot.sessions.session import ALLOWED_MOVES, Session, SessionState, Thread, field_json
from bot.sessions.starters import Summary


def decoded(session_id: str, raw: Hash) -> Session:
    """A session from its hash as Redis answers it (bytes); `NotFound` when there is none."""
    if not raw:
        raise NotFound(f"There is no session `{session_id}`.")
    return Session.from_redis(str_fields(raw))


def present(found: Iterable[Hash]) -> list[Session]:
    """Sessions from hashes read together, skipping an expired one whose index entry
    retention has not swept yet."""
    return [Session.from_redis(str_fields(raw)) for raw in found if raw]


def transition_args(to: SessionState, allowed_from: frozenset[SessionState] | None) -> list[str]:
    """ARGV of `scripts.TRANSITION`: to `to` from the given states (default: the state
    machine's)."""
    sources = allowed_from or frozenset(s for s, moves in ALLOWED_MOVES.items() if to in moves)
    return [stored(to), json.dumps(time.time()), *(stored(s) for s in sources)]


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
        self._transition = redis.register_script(scripts.TRANSITION)
        self._release = redis.register_script(scripts.RELEASE_IF_OWNER)

    def create(self, session: Session) -> bool:
        """Store a new session bound to its thread; False if that thread already has one."""
        thread_key = keys.thread(session.thread.surface, session.thread.key)
        if not self.redis.set(thread_key, session.id, nx=True):
            return False
        pipe = self.redis.pipeline()
        pipe.hset(keys.session(session.id), mapping=session.to_redis())  # type: ignore[arg-type]
        pipe.zadd(keys.sessions_index(), {session.id: session.updated_at})
        starters.index(pipe, Summary.of(session))
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

    def update(self, session_id: str, **values: object) -> None:
        """Set some fields (never `state`: that goes through `transition`)."""
        if "state" in values:
            raise ValueError("use transition() to change a session's state")
        now = time.time()
        mapping = {name: field_json(v) for name, v in values.items()}
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
        self.unbind(session.thread, session_id)
        return True

    def bind_place(self, session_id: str, surface: str, thread_key: str) -> bool:
        """One more place for the session (the merge request it shipped): a mention there is
        a prompt in this session. False when another session holds that thread already."""
        name = keys.thread(surface, thread_key)
        if not self.redis.set(name, session_id, nx=True):
            current = self.redis.get(name)
            return current is not None and as_str(current) == session_id
        self.redis.sadd(keys.session_places(session_id), f"{surface}|{thread_key}")
        return True

    def places(self, session_id: str) -> list[tuple[str, str]]:
        """The session's other places, as (surface, thread key)."""
        found = sorted(as_str(p) for p in self.redis.smembers(keys.session_places(session_id)))
        return [(p.split("|", 1)[0], p.split("|", 1)[1]) for p in found if "|" in p]

    def unbind_place(self, session_id: str, surface: str, thread_key: str) -> None:
        """The merge request was merged or closed: its thread is its own again."""
        self._release(keys=[keys.thread(surface, thread_key)], args=[session_id])
        self.redis.srem(keys.session_places(session_id), f"{surface}|{thread_key}")

    def unbind(self, thread: Thread, session_id: str) -> None:
        """Free `thread` if `session_id` still holds it, in one step (a newer session that
        took the thread since keeps it)."""
        self._release(keys=[keys.thread(thread.surface, thread.key)], args=[session_id])
