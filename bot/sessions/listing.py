"""The dashboard's one list of sessions, whatever surface started them: filtered, paged.

A viewer is known here by the identities they started sessions as (`Seeker.starters`, from
their linked accounts: `bot.identity.linked`), so a session started from Slack or a forge
comment is on its starter's list as soon as the accounts are linked. "Everyone" is for
admins, refused here as well as on the page.

A page is one read-only script (`scripts.LIST_PAGE`) over the indexes of
`bot.sessions.starters` and the activity indexes, then one pipeline for the rows, so its
cost follows the page size, not the number of sessions. The cursor is the last row's
activity and id: a session whose activity changes between two pages moves to the top, so
it is not shown twice, but one not yet shown that becomes active meanwhile is missed until
the first page is read again. A page may hold fewer rows than asked (or none) and still
have a next one, when a rare state filter spends the page's look-up budget.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from redis.asyncio import Redis as AsyncRedis

from bot.core import keys
from bot.core.errors import Forbidden, UserError
from bot.core.redisio import as_str
from bot.sessions import scripts, starters
from bot.sessions.scripts import stored
from bot.sessions.session import SessionState
from bot.sessions.starters import FIELDS, Summary

PAGE_SIZE = 25
MOST = 100  # rows a page may ask for
LOOKS = 2000  # sessions one page looks at, at most (a rare state filter on many sessions)
MENU = 200  # repositories offered in the filter menu
CURSOR = re.compile(r"^(\d{1,12}(?:\.\d{1,20})?(?:e[+-]?\d{1,3})?)~([A-Za-z0-9_-]{1,64})$")


class Scope(StrEnum):
    MINE = "mine"
    EVERYONE = "everyone"


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: after this activity score and session id."""

    score: str
    id: str

    @property
    def text(self) -> str:
        return f"{self.score}~{self.id}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        found = CURSOR.match(text)
        if found is None:
            raise UserError("That page link is not valid any more.", hint="Start from the top.")
        return cls(found.group(1), found.group(2))


@dataclass(frozen=True)
class Filters:
    """What the list shows; `state` None: every session not archived."""

    state: SessionState | None = None
    repository: str | None = None  # `provider:project` (`starters.repository_key`)
    scope: Scope = Scope.MINE
    cursor: Cursor | None = None
    limit: int = PAGE_SIZE

    @classmethod
    def from_query(cls, query: Mapping[str, str], *, scope: Scope = Scope.MINE) -> Filters:
        """From a page's query string (untrusted): a clear `UserError` for what is not one;
        `scope` when the query names none."""
        state = query.get("state", "").strip()
        if state and state not in SessionState.__members__.values():
            names = ", ".join(s.value for s in SessionState)
            raise UserError(f"There is no state {state[:40]!r}; the states are {names}.")
        asked = query.get("scope", "").strip() or scope.value
        if asked not in Scope.__members__.values():
            raise UserError("Show either your sessions (mine) or everyone's (everyone).")
        repository = query.get("repo", "").strip()
        if len(repository) > 300 or not repository.isprintable():
            raise UserError("That repository name is not one Repobox knows.")
        limit = query.get("limit", "")
        if limit and not (limit.isdigit() and 0 < int(limit) <= MOST):
            raise UserError(f"A page shows 1 to {MOST} sessions.")
        after = query.get("after", "")
        return cls(
            state=SessionState(state) if state else None,
            repository=repository or None,
            scope=Scope(asked),
            cursor=Cursor.parse(after) if after else None,
            limit=int(limit) if limit else PAGE_SIZE,
        )


@dataclass(frozen=True)
class Seeker:
    """The viewer as the list knows them: the identities they start sessions as."""

    starters: frozenset[str]
    admin: bool


@dataclass(frozen=True)
class Repository:
    key: str  # `provider:project`, the filter's value
    name: str  # `group/project`
    kind: str  # gitlab, github, local


@dataclass(frozen=True)
class Row:
    id: str
    repository: Repository
    title: str
    state: str
    surface: str  # slack, gitlab, github, web, cli
    who: str  # the starter's display name (their account's, once linked)
    starter: str  # the starter's identity (`starters.starter_of`)
    last_activity: int  # epoch seconds
    merge_request_url: str | None
    # Its other places (`surface|thread key`: the merge request it shipped), beside its
    # thread: the session is one row wherever it was asked.
    places: tuple[str, ...] = ()
    thread_key: str = ""  # its home thread's key on `surface`
    thread_url: str | None = None  # its home thread's link, when the record holds one


@dataclass(frozen=True)
class SessionPage:
    rows: tuple[Row, ...]
    next_cursor: str | None  # `after=` of the next page; None on the last
    repositories: tuple[Repository, ...]  # for the filter menu
    states: tuple[str, ...]


async def list_sessions(redis: AsyncRedis, seeker: Seeker, filters: Filters) -> SessionPage:
    """One page of the sessions `seeker` may see that match `filters`, newest activity first."""
    if filters.scope is Scope.EVERYONE and not seeker.admin:
        raise Forbidden("Only admins (REPOBOX_ADMINS) see everyone's sessions.")
    await starters.backfill(redis)
    mine = sorted(seeker.starters) if filters.scope is Scope.MINE else None
    ids, cursor = await _page(redis, filters, mine)
    rows = await _rows(redis, ids)
    return SessionPage(
        rows=tuple(rows),
        next_cursor=cursor.text if cursor else None,
        repositories=await _menu(redis, mine),
        states=tuple(s.value for s in SessionState),
    )


async def _page(
    redis: AsyncRedis, filters: Filters, mine: list[str] | None
) -> tuple[list[tuple[str, str]], Cursor | None]:
    """The page's (id, score) pairs and the next cursor, from the script."""
    if mine is not None and not mine:
        return [], None
    archived = filters.state is SessionState.ARCHIVED
    activity = keys.archived_index() if archived else keys.sessions_index()
    repo = keys.sessions_by_repository(filters.repository) if filters.repository else activity
    wanted = stored(filters.state) if filters.state and not archived else ""
    unwanted = "" if archived or filters.state else stored(SessionState.ARCHIVED)
    after = filters.cursor
    found, following = await redis.register_script(scripts.LIST_PAGE)(
        keys=[activity, repo, *(keys.sessions_by_starter(s) for s in mine or [])],
        args=[
            keys.session(""),
            after.score if after else "+inf",
            after.id if after else "",
            filters.limit,
            wanted,
            unwanted,
            max(LOOKS, filters.limit * 40),
            "1" if filters.repository else "0",
        ],
    )
    flat = [as_str(v) for v in found]
    pairs = list(zip(flat[::2], flat[1::2], strict=True))
    nxt = [as_str(v) for v in following]
    return pairs, Cursor(nxt[0], nxt[1]) if nxt else None


async def _rows(redis: AsyncRedis, ids: list[tuple[str, str]]) -> list[Row]:
    if not ids:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for session_id, _ in ids:
            pipe.hmget(keys.session(session_id), list(FIELDS))
            pipe.smembers(keys.session_places(session_id))
        found = await pipe.execute()
    rows = []
    for (session_id, score), values, places in zip(ids, found[::2], found[1::2], strict=True):
        summary = Summary.from_fields(session_id, values)
        if summary is not None:
            row = _row(summary, int(float(score)))
            rows.append(replace(row, places=tuple(sorted(as_str(p) for p in places))))
    return rows


def _row(summary: Summary, last_activity: int) -> Row:
    return Row(
        id=summary.id,
        repository=_repository(summary.repository),
        title=summary.title,
        state=summary.state,
        surface=summary.surface,
        who=summary.starter_name or summary.starter_id,
        starter=summary.starter,
        last_activity=last_activity,
        merge_request_url=summary.merge_request_url,
        thread_key=summary.thread_key,
        thread_url=summary.thread_url,
    )


async def _menu(redis: AsyncRedis, mine: list[str] | None) -> tuple[Repository, ...]:
    """The repositories to filter by: the viewer's, or (everyone) the most recent ones."""
    sources = [keys.starter_repositories(s) for s in mine] if mine is not None else []
    if mine is None:
        sources = [keys.repositories()]
    async with redis.pipeline(transaction=False) as pipe:
        for source in sources:
            pipe.zrevrange(source, 0, MENU - 1)
        found = await pipe.execute()
    names = {as_str(name) for listed in found for name in listed}
    return tuple(sorted((_repository(n) for n in names), key=lambda r: (r.name, r.kind)))[:MENU]


def _repository(key: str) -> Repository:
    kind, _, name = key.partition(":")
    return Repository(key, name, kind)
