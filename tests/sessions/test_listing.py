"""The dashboard's list on real Valkey: sessions made by the stores' real create path, listed
across surfaces by starter identity, filtered, paged, backfilled and swept."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from redis import Redis

from bot.core import keys
from bot.core.errors import Forbidden, UserError
from bot.core.redisio import run_async
from bot.sessions import retention
from bot.sessions.listing import Filters, Scope, Seeker, SessionPage, list_sessions
from bot.sessions.merge_request import MergeRequestRef
from bot.sessions.session import Person, Session, SessionState, Thread
from bot.sessions.session_store import SessionStore

ALICE_WEB = Person("web:alice1", "Alice")
ALICE = Seeker(frozenset({"web:alice1", "slack:T1/U1", "github:alice"}), admin=False)
BOB = Seeker(frozenset({"web:bob1"}), admin=False)
ADMIN = Seeker(frozenset({"web:root"}), admin=True)
T0 = 1_700_000_000.0


def make(
    store: SessionStore,
    n: int,
    *,
    thread: Thread | None = None,
    person: Person = ALICE_WEB,
    project: str = "acme/widgets",
    provider: str = "gitlab",
    at: float | None = None,
) -> Session:
    when = T0 + n if at is None else at
    session = Session(
        id=f"s{n:04d}",
        repo=project,
        provider=provider,
        project=project,
        base_branch=None,
        work_branch=f"repobox/{n}",
        thread=thread or Thread("web", f"w{n}"),
        created_by=person,
        title=f"task {n}",
        created_at=when,
        updated_at=when,
    )
    assert store.create(session)
    return session


def listed(redis: Redis, seeker: Seeker, **filters: Any) -> SessionPage:
    call: Callable[[Any], Coroutine[Any, Any, SessionPage]] = lambda aredis: list_sessions(  # noqa: E731
        aredis, seeker, Filters(**filters)
    )
    return run_async(redis, call)


def titles(page: SessionPage) -> list[str]:
    return [row.title for row in page.rows]


def test_thirty_sessions_page_in_two_without_duplicates_or_misses(redis: Redis) -> None:
    store = SessionStore(redis)
    for n in range(30):
        make(store, n)
    first = listed(redis, ALICE)
    assert titles(first) == [f"task {n}" for n in range(29, 4, -1)]  # newest activity first
    assert first.next_cursor is not None
    second = listed(redis, ALICE, cursor=Filters.from_query({"after": first.next_cursor}).cursor)
    assert titles(second) == [f"task {n}" for n in range(4, -1, -1)]
    assert second.next_cursor is None
    assert first.rows[0].last_activity == int(T0 + 29)

    # Everyone's list (an admin's) pages the same sessions the same way, with no starter sets.
    everyone = listed(redis, ADMIN, scope=Scope.EVERYONE, limit=10)
    assert titles(everyone) == [f"task {n}" for n in range(29, 19, -1)]


def test_activity_between_pages_moves_a_session_up_and_never_shows_it_twice(
    redis: Redis,
) -> None:
    store = SessionStore(redis)
    for n in range(30):
        make(store, n)
    first = listed(redis, ALICE)
    store.touch("s0010")  # on the first page: it moves up, and is not shown again
    store.touch("s0002")  # not shown yet: it moves above the cursor (the documented miss)
    after = Filters.from_query({"after": first.next_cursor or ""}).cursor
    second = listed(redis, ALICE, cursor=after)
    assert titles(second) == ["task 4", "task 3", "task 1", "task 0"]
    again = listed(redis, ALICE)
    assert titles(again)[:2] == ["task 2", "task 10"]


def test_sessions_from_every_surface_are_matched_by_the_viewers_identities(
    redis: Redis,
) -> None:
    store = SessionStore(redis)
    make(store, 1, thread=Thread("slack", "T1:C1:171.1"), person=Person("U1", "U1"))
    make(store, 2, thread=Thread("github", "9:issue:4"), person=Person("Alice", "Alice A"))
    make(store, 3)
    make(store, 4, thread=Thread("slack", "T2:C1:171.2"), person=Person("U1", "U1"))  # T2
    make(store, 5, thread=Thread("gitlab", "9:issue:4"), person=Person("alice", "alice"))
    make(store, 6, person=Person("web:bob1", "Bob"))
    make(store, 7, thread=Thread("cli", "c7"), person=Person("root", "root"))
    page = listed(redis, ALICE)
    assert [(r.title, r.surface) for r in page.rows] == [
        ("task 3", "web"),
        ("task 2", "github"),
        ("task 1", "slack"),
    ]
    assert titles(listed(redis, BOB)) == ["task 6"]
    operator = Seeker(frozenset({"web:op", "operator:local"}), admin=False)
    assert titles(listed(redis, operator)) == ["task 7"]  # the terminal is the operator's
    with pytest.raises(Forbidden, match="Only admins"):
        listed(redis, BOB, scope=Scope.EVERYONE)
    assert len(listed(redis, ADMIN, scope=Scope.EVERYONE).rows) == 7
    assert listed(redis, ADMIN).rows == ()  # an admin's own list is theirs alone


def test_filters_by_state_and_repository_and_the_rows_say_what_people_see(
    redis: Redis,
) -> None:
    store = SessionStore(redis)
    for n in range(6):
        make(store, n, project="acme/widgets" if n % 2 else "acme/gadgets")
    store.transition("s0001", SessionState.FAILED)
    store.transition("s0003", SessionState.ARCHIVED)
    store.mark_archived("s0003")
    store.update("s0005", merge_request=MergeRequestRef("https://gitlab.test/mr/5", 5))

    # Transitions and updates are activity: 5 (its MR) and 1 (failed) moved up.
    assert titles(listed(redis, ALICE)) == ["task 5", "task 1", "task 4", "task 2", "task 0"]
    failed = listed(redis, ALICE, state=SessionState.FAILED)
    assert titles(failed) == ["task 1"] and failed.rows[0].state == "failed"
    assert titles(listed(redis, ALICE, state=SessionState.ARCHIVED)) == ["task 3"]
    widgets = listed(redis, ALICE, repository="gitlab:acme/widgets")
    assert titles(widgets) == ["task 5", "task 1"]
    assert listed(redis, ALICE, repository="gitlab:acme/nothing").rows == ()
    row = widgets.rows[0]
    assert (row.repository.name, row.repository.kind) == ("acme/widgets", "gitlab")
    assert (row.who, row.surface, row.merge_request_url) == (
        "Alice",
        "web",
        "https://gitlab.test/mr/5",
    )
    assert [r.key for r in widgets.repositories] == ["gitlab:acme/gadgets", "gitlab:acme/widgets"]
    assert "archived" in widgets.states and "running" in widgets.states
    assert listed(redis, BOB).repositories == ()


def test_sessions_made_before_the_index_are_listed_once_backfilled(redis: Redis) -> None:
    for n in range(3):  # as the stores wrote them before: the hash and the activity index
        old = Session(
            id=f"old{n}",
            repo="acme/widgets",
            provider="gitlab",
            project="acme/widgets",
            base_branch=None,
            work_branch="w",
            thread=Thread("slack", f"T1:C1:{n}.1"),
            created_by=Person("U1", "U1"),
            title=f"old {n}",
            created_at=T0 + n,
            updated_at=T0 + n,
        )
        redis.hset(keys.session(old.id), mapping=old.to_redis())  # type: ignore[arg-type]
        redis.zadd(keys.sessions_index(), {old.id: old.updated_at})
    redis.hdel(keys.session("old0"), "created_at")  # older still: a field missing
    assert titles(listed(redis, ALICE)) == ["old 2", "old 1", "old 0"]
    assert redis.get(keys.listing_backfilled()) == b"1"


def test_retention_takes_purged_sessions_off_the_indexes(redis: Redis) -> None:
    store = SessionStore(redis)
    make(store, 1)
    store.transition("s0001", SessionState.ARCHIVED)
    store.mark_archived("s0001", at=time.time() - 10)
    assert retention.purge_expired(redis, retention=1) == ["s0001"]
    assert redis.zcard(keys.sessions_by_starter("web:alice1")) == 0
    assert redis.zcard(keys.sessions_by_repository("gitlab:acme/widgets")) == 0
    assert listed(redis, ALICE, state=SessionState.ARCHIVED).rows == ()


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ({"state": "sleeping"}, "There is no state 'sleeping'"),
        ({"scope": "theirs"}, "your sessions (mine) or everyone's"),
        ({"after": "1.5~x;DROP"}, "page link is not valid"),
        ({"after": "-1~abc"}, "page link is not valid"),
        ({"limit": "1000"}, "1 to 100 sessions"),
        ({"repo": "a\x00b"}, "not one Repobox knows"),
    ],
)
def test_a_bad_query_is_a_clear_message(query: dict[str, str], said: str) -> None:
    with pytest.raises(UserError, match=said.replace("(", r"\(").replace(")", r"\)")):
        Filters.from_query(query)


def test_a_good_query_reads_into_filters() -> None:
    read = Filters.from_query(
        {"state": "running", "repo": "github:o/r", "scope": "everyone", "after": "17.5~s1"}
    )
    assert read.state is SessionState.RUNNING and read.repository == "github:o/r"
    assert read.scope is Scope.EVERYONE and read.cursor is not None
    assert read.cursor.text == "17.5~s1"
    assert json.dumps(Filters.from_query({}).limit) == "25"


def test_a_few_sessions_among_many_are_sorted_and_paged_the_same_way(redis: Redis) -> None:
    """Few candidates (one person's, one small repository's) take the script's other path:
    sorted by activity rather than found by walking the index."""
    store = SessionStore(redis)
    for n in range(40):
        make(store, n, project="acme/big")
    for n in (40, 41, 42):
        make(store, n, person=Person("web:bob1", "Bob"), project="acme/small", at=T0 + 7.5)
    pages, after = [], None
    while True:
        page = listed(redis, BOB, limit=2, cursor=after)
        pages.append(titles(page))
        if page.next_cursor is None:
            break
        after = Filters.from_query({"after": page.next_cursor}).cursor
    assert pages == [["task 42", "task 41"], ["task 40"]]  # equal activity: by id, descending
    small = listed(redis, ADMIN, scope=Scope.EVERYONE, repository="gitlab:acme/small", limit=2)
    assert titles(small) == ["task 42", "task 41"] and small.next_cursor is not None
    big = listed(redis, ADMIN, scope=Scope.EVERYONE, repository="gitlab:acme/big", limit=3)
    assert titles(big) == ["task 39", "task 38", "task 37"]
