"""Who started a session, as one identity, and the indexes that find sessions by it.

A session names its starter the way its surface knows them: the Slack user (the team is the
first part of the thread's key), the GitLab or GitHub login, `web:<account>` for the
dashboard, the local user for the terminal. `starter_of` turns that into one string,
`kind:value`, spelt as the identity layer spells a linked account (`slack:T1/U1`,
`github:alice`; `bot.identity.people.Identity`), so the dashboard finds a person's sessions
through their linked identities *when it reads*: linking an account later brings the
sessions it started along, and nothing is copied at creation.

The indexes are written with the session itself, in the same transaction (`index`), and
are sets of ids scored by creation time; last activity stays where it always was, in the
open and archived indexes (`keys.sessions_index`, `keys.archived_index`), which the
listing reads the scores from (`bot.sessions.listing`). Sessions made before these indexes
existed are added once, by `backfill`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis as AsyncRedis

from bot.core import keys
from bot.core.redisio import as_str, maybe_str
from bot.sessions.session import Session

WEB_PREFIX = "web:"
# The terminal runs on the machine, as whoever holds it: the operator (`python app.py login`).
OPERATOR = "operator:local"
FORGES = ("gitlab", "github")
VERSION = "1"  # of what `backfill` adds; a new index would bump it
BATCH = 500

# The hash fields a listing or the backfill reads (never `context` or `instructions`, which
# can be large).
FIELDS = (
    "id",
    "provider",
    "project",
    "title",
    "state",
    "thread",
    "created_by",
    "merge_request",
    "created_at",
)


@dataclass(frozen=True)
class Summary:
    """What a list shows of a session, read from some of its hash's fields (`FIELDS`);
    missing or odd fields read as empty, so an old session still lists."""

    id: str
    provider: str
    project: str
    title: str
    state: str
    surface: str
    thread_key: str
    starter_id: str
    starter_name: str
    merge_request_url: str | None
    created_at: float
    thread_url: str | None = None  # the home thread's link, when its surface gave one

    @classmethod
    def from_fields(cls, session_id: str, values: list[Any]) -> Summary | None:
        """From `HMGET session FIELDS`; None when the session is gone (no state)."""
        got = dict(zip(FIELDS, (_json(v) for v in values), strict=True))
        if not got["state"]:
            return None
        thread, person, mr = (_mapping(got[n]) for n in ("thread", "created_by", "merge_request"))
        return cls(
            id=session_id,
            provider=_text(got["provider"]),
            project=_text(got["project"]),
            title=_text(got["title"]),
            state=_text(got["state"]),
            surface=_text(thread.get("surface")),
            thread_key=_text(thread.get("key")),
            starter_id=_text(person.get("id")),
            starter_name=_text(person.get("name")),
            merge_request_url=_text(mr.get("url")) or None,
            created_at=_float(got["created_at"]),
            thread_url=_text(thread.get("url")) or None,
        )

    @classmethod
    def of(cls, session: Session) -> Summary:
        """A session just made, as the indexes need it."""
        mr = session.merge_request
        return cls(
            id=session.id,
            provider=session.provider,
            project=session.project,
            title=session.title,
            state=session.state.value,
            surface=session.thread.surface,
            thread_key=session.thread.key,
            starter_id=session.created_by.id,
            starter_name=session.created_by.name,
            merge_request_url=mr.url if mr else None,
            created_at=session.created_at,
            thread_url=session.thread.url,
        )

    @property
    def starter(self) -> str:
        return starter_of(self.surface, self.thread_key, self.starter_id)

    @property
    def repository(self) -> str:
        return repository_key(self.provider, self.project)


def starter_of(surface: str, thread_key: str, person_id: str) -> str:
    """The starter's identity, `kind:value`, from what the session stored of them."""
    if person_id.startswith(WEB_PREFIX):
        return person_id
    if surface == "slack":
        return f"slack:{thread_key.split(':', 1)[0]}/{person_id}"
    if surface in FORGES:
        return f"{surface}:{person_id.lower()}"
    if surface == "cli":
        return OPERATOR
    return f"{surface}:{person_id}"


def repository_key(provider: str, project: str) -> str:
    """A repository as the filter names it: `gitlab:group/project`, `local:/path`."""
    return f"{provider}:{project}"


def index(pipe: Any, summary: Summary) -> None:
    """Queue the index writes of a session on `pipe` (a sync or async pipeline, so the
    session and its entries land in one transaction)."""
    starter, repository, at = summary.starter, summary.repository, summary.created_at
    pipe.zadd(keys.sessions_by_starter(starter), {summary.id: at})
    pipe.zadd(keys.starter_repositories(starter), {repository: at}, gt=True)
    pipe.zadd(keys.sessions_by_repository(repository), {summary.id: at})
    pipe.zadd(keys.repositories(), {repository: at}, gt=True)


def unindex(pipe: Any, summary: Summary) -> None:
    """Queue the removal of a deleted session's entries (retention's purge)."""
    pipe.zrem(keys.sessions_by_starter(summary.starter), summary.id)
    pipe.zrem(keys.sessions_by_repository(summary.repository), summary.id)


async def backfill(redis: AsyncRedis) -> int:
    """Index the sessions made before the indexes existed, once (a marker records it);
    returns how many were read. Safe to run twice at once: every write is a ZADD."""
    if maybe_str(await redis.get(keys.listing_backfilled())) == VERSION:
        return 0
    seen = 0
    for listed in (keys.sessions_index(), keys.archived_index()):
        start = 0
        while ids := [as_str(i) for i in await redis.zrange(listed, start, start + BATCH - 1)]:
            async with redis.pipeline(transaction=False) as pipe:
                for session_id in ids:
                    pipe.hmget(keys.session(session_id), list(FIELDS))
                found = await pipe.execute()
            async with redis.pipeline(transaction=False) as pipe:
                for session_id, values in zip(ids, found, strict=True):
                    summary = Summary.from_fields(session_id, values)
                    if summary is not None:
                        index(pipe, summary)
                await pipe.execute()
            seen += len(ids)
            start += BATCH
    await redis.set(keys.listing_backfilled(), VERSION)
    return seen


def _json(value: object) -> object:
    if value is None:
        return None
    try:
        return json.loads(as_str(value))
    except ValueError:
        return None


def _mapping(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _float(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
