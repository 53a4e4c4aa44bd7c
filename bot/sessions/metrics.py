"""Run figures for /metrics: added up in Redis by the workers, read by the web process.

Workers are separate processes (RQ forks a work horse per job), so an in-process metrics
registry there would die with each job. Each run adds its figures to one Redis hash with
atomic increments instead; the web process reads it (on its async client) and turns it
into Prometheus families at scrape time. Recording is a side channel: it never fails a run.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field

from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from redis.exceptions import RedisError
from rq import Queue

from bot.core import keys
from bot.core.redisio import as_str, str_fields
from bot.sessions.results import RunResult
from bot.sessions.session import ACCEPTS_PROMPTS, SessionState

log = logging.getLogger(__name__)

# Upper bounds (seconds) of the run-duration histogram; a run takes seconds to many minutes.
RUN_BUCKETS = (5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0)


def record_run(redis: Redis, outcome: str, duration: float, result: RunResult | None) -> None:
    """Add one finished prompt run: its outcome, duration, and the tokens and cost it reported."""
    try:
        pipe = redis.pipeline(transaction=False)
        name = keys.run_metrics()
        pipe.hincrby(name, f"runs:{outcome}", 1)
        pipe.hincrbyfloat(name, "seconds:sum", duration)
        for bound in RUN_BUCKETS:
            if duration <= bound:
                pipe.hincrby(name, f"seconds:le:{bound:g}", 1)
        for kind, count in (result.tokens if result else {}).items():
            if count > 0:
                pipe.hincrby(name, f"tokens:{kind}", count)
        if result is not None and result.cost_usd > 0:
            pipe.hincrbyfloat(name, "cost_usd", result.cost_usd)
        pipe.execute()
    except (RedisError, OSError):
        log.exception("could not record run metrics; the run itself is unaffected")


def record_candidate(redis: Redis, label: str, outcome: str) -> None:
    """One candidate of a comparison ran (`label`: as named, "sonnet", "claude-code")."""
    redis.hincrby(keys.run_metrics(), f"candidates:{label}:{outcome}", 1)


def record_pick(redis: Redis, label: str) -> None:
    """Someone picked a candidate: which model a team prefers, over time."""
    redis.hincrby(keys.run_metrics(), f"picks:{label}", 1)


@dataclass
class RunFigures:
    """Everything recorded so far, as counters (Prometheus computes rates from them)."""

    runs: dict[str, int] = field(default_factory=dict)  # outcome -> runs
    seconds_sum: float = 0.0
    buckets: list[tuple[float, int]] = field(default_factory=list)  # (bound, cumulative)
    tokens: dict[str, int] = field(default_factory=dict)  # kind -> tokens
    cost_usd: float = 0.0
    candidates: dict[tuple[str, str], int] = field(default_factory=dict)  # (label, outcome)
    picks: dict[str, int] = field(default_factory=dict)  # label -> picks

    @property
    def count(self) -> int:
        return sum(self.runs.values())


async def read_runs(redis: AsyncRedis) -> RunFigures:
    raw = str_fields(await redis.hgetall(keys.run_metrics()))
    figures = RunFigures()
    for name, value in raw.items():
        kind, _, rest = name.partition(":")
        if kind == "runs":
            figures.runs[rest] = int(value)
        elif kind == "tokens":
            figures.tokens[rest] = int(value)
        elif kind == "candidates":
            label, _, outcome = rest.rpartition(":")
            figures.candidates[(label, outcome)] = int(value)
        elif kind == "picks":
            figures.picks[rest] = int(value)
    figures.seconds_sum = float(raw.get("seconds:sum", 0))
    figures.cost_usd = float(raw.get("cost_usd", 0))
    figures.buckets = [(b, int(raw.get(f"seconds:le:{b:g}", 0))) for b in RUN_BUCKETS]
    return figures


async def open_sessions(redis: AsyncRedis, window: float) -> dict[str, int]:
    """Open sessions (they take prompts) by state, among those active in the last `window` seconds.

    The window bounds the work per scrape: the index holds open sessions only (archived ones
    move to their own index), and one idle for longer than the idle-archive time is archived.
    """
    ids = await redis.zrangebyscore(keys.sessions_index(), time.time() - window, "+inf")
    if not ids:
        return {}
    async with redis.pipeline(transaction=False) as pipe:
        for session_id in ids:
            pipe.hget(keys.session(as_str(session_id)), "state")
        found = await pipe.execute()
    counts: dict[str, int] = {}
    for raw in found:
        if raw is None:
            continue
        state = SessionState(json.loads(raw))
        if state in ACCEPTS_PROMPTS:
            counts[state.value] = counts.get(state.value, 0) + 1
    return counts


async def runs_in_progress(redis: AsyncRedis) -> int:
    return int(await redis.scard(keys.active_runs()))


async def queue_depths(redis: AsyncRedis, prefix: str = "repobox") -> dict[str, int]:
    """Jobs waiting per RQ queue of ours, read as RQ's `Queue.all` and `Queue.count` do."""
    names = sorted(
        as_str(key).removeprefix(Queue.redis_queue_namespace_prefix)
        for key in await redis.smembers(Queue.redis_queues_keys)
    )
    names = [name for name in names if name.startswith(prefix)]
    if not names:
        return {}
    async with redis.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.llen(Queue.redis_queue_namespace_prefix + name)
        counts = await pipe.execute()
    return dict(zip(names, (int(c) for c in counts), strict=True))
