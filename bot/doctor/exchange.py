"""The terminal's doctor asks the running server for its checks, through Redis.

`./dev doctor` runs in a terminal whose environment is not the server's: checking there
said "ANTHROPIC_API_KEY is not set" of a server running the command agent. So the web
process answers instead (`serve`, a task of its own): it keeps `keys.doctor_server`
alive while it runs, takes requests from `keys.doctor_requests` and answers each with
its checks on `keys.doctor_answer(nonce)`. The answer holds what the health page shows,
which never includes a token; whoever can reach this Redis holds every session anyway.
Requests close together share one run of the checks, so nobody can make the server call
Slack, GitLab and GitHub in a loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import time
from dataclasses import dataclass

from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from redis.exceptions import RedisError

from bot.core import keys
from bot.core.config import Settings
from bot.core.redisio import as_str, blocking_limit
from bot.doctor.check import Check

log = logging.getLogger(__name__)

ALIVE_TTL = 30  # seconds the server key outlives its last refresh
BEAT = 5  # seconds between refreshes (the wait for a request)
ANSWER_TTL = 120
REUSE_SECONDS = 5.0  # requests this close to the last run share its checks
ASK_TIMEOUT = 90.0  # the checks call up to four hosts, each with a 10 s limit


@dataclass(frozen=True)
class Answer:
    """The server's checks, and which server said them."""

    server: str  # "host (pid N)"
    checks: list[Check]


async def serve(settings: Settings, redis: Redis, waiter: AsyncRedis) -> None:
    """Answer terminal doctors until cancelled. `waiter` must allow a blocking read of
    `BEAT` seconds (no shorter socket timeout); `redis` is what the checks probe."""
    me = json.dumps({"host": socket.gethostname(), "pid": os.getpid()})
    try:
        await _answer_requests(settings, redis, waiter, me)
    finally:  # stopping: say so at once, unless another server has taken the key since
        with contextlib.suppress(RedisError, OSError):
            if await waiter.get(keys.doctor_server()) == me.encode():
                await waiter.delete(keys.doctor_server())


async def _answer_requests(settings: Settings, redis: Redis, waiter: AsyncRedis, me: str) -> None:
    # The server's side only: the checks load every agent (the Anthropic SDK, MCP), which a
    # terminal asking through `ask` must not pay for at each start.
    from bot.doctor.checks import run_all

    last: tuple[float, list[Check]] | None = None
    while True:
        try:
            await waiter.set(keys.doctor_server(), me, ex=ALIVE_TTL)
            popped = await waiter.blpop([keys.doctor_requests()], timeout=BEAT)
            if popped is None:
                continue
            if last is None or time.monotonic() - last[0] > REUSE_SECONDS:
                last = (time.monotonic(), await asyncio.to_thread(run_all, settings, redis))
            body = json.dumps({"server": me, "checks": [c.to_dict() for c in last[1]]})
            answer = keys.doctor_answer(as_str(popped[1]))
            async with waiter.pipeline(transaction=False) as pipe:
                pipe.rpush(answer, body)
                pipe.expire(answer, ANSWER_TTL)
                await pipe.execute()
        except (RedisError, OSError) as error:  # Redis restarting: the supervisor brings it back
            log.info("doctor answers paused: %s", error)
            await asyncio.sleep(1.0)


def server_running(redis: Redis) -> bool:
    return bool(redis.exists(keys.doctor_server()))


def ask(redis: Redis, timeout: float = ASK_TIMEOUT) -> Answer | None:
    """The running server's checks; None when it did not answer within `timeout`."""
    nonce = secrets.token_hex(16)
    redis.rpush(keys.doctor_requests(), nonce)
    redis.expire(keys.doctor_requests(), int(ASK_TIMEOUT) * 2)
    deadline = time.monotonic() + timeout
    step = max(1, min(blocking_limit(redis), 10))
    while (left := deadline - time.monotonic()) > 0:
        popped = redis.blpop([keys.doctor_answer(nonce)], timeout=max(1, min(step, int(left))))
        if popped is None and not server_running(redis):  # it stopped meanwhile
            break
        if popped is not None:
            data = json.loads(as_str(popped[1]))
            who = json.loads(data["server"])
            checks = [Check.from_dict(c) for c in data["checks"]]
            return Answer(f"{who['host']} (pid {who['pid']})", checks)
    redis.lrem(keys.doctor_requests(), 0, nonce)
    return None
