"""Recovering runs whose worker died, and repairing state that contradicts the rest.

A run whose heartbeat stopped still has its prompt in the running slot: the watchdog
takes the lease over (so the dead run, were it only stalled, can change nothing), fails
the prompt with a message that names the cause, and the queue moves on. A prompt taken
but never recorded as running had not started: it goes back to the head of the queue.
The reconciler then settles a session shown "running" with nothing running, and kicks
queues nobody is draining (e.g. after a restart); each repair is told in the thread.
"""

from __future__ import annotations

import contextlib
import logging
import time
from enum import StrEnum

from redis.exceptions import RedisError

from bot.core import keys
from bot.core.redisio import as_str
from bot.sessions.events import EventKind, ProgressEvent
from bot.sessions.hosts import HostRegistry
from bot.sessions.prompts import PromptState
from bot.sessions.runstate import RunState
from jobs.steps.context import JobContext

log = logging.getLogger(__name__)


class Cause(StrEnum):
    WORKER = "worker died"
    DATABASE = "database outage"
    HOST = "host lost"


_WILL_NOT_RERUN = (
    "What it had written is still in the workdir. This prompt will not run again by itself: "
    "send it again if you still want it."
)
LOST_MESSAGES = {
    Cause.WORKER: "The worker running this stopped unexpectedly (it was killed or ran out of "
    "memory), and its processes were stopped with it. " + _WILL_NOT_RERUN,
    Cause.DATABASE: "Repobox's database (Redis) went away while this ran, and the run could "
    "not be kept. " + _WILL_NOT_RERUN,
    Cause.HOST: "Host lost: the machine running this ({host}) stopped answering, and this run "
    "was lost with it. The prompts waiting behind it run by themselves, on another machine "
    "from the last checkpoint if this one stays away. " + _WILL_NOT_RERUN,
}
LOST_RUN = LOST_MESSAGES[Cause.WORKER]
REPAIRED_RUNNING = (
    "This session showed “running” with no run in progress (a step was interrupted); "
    "it is ready again."
)

# Claim a dead run atomically: only if nobody holds the lock. KEYS: lock, running, active,
# lease, queue. ARGV: session id, prompt key prefix. Returns {what, prompt id, token}:
# (a lost prompt stays in the running slot and the active set until its failure is recorded)
# 'lost' (it ran), 'requeued' (taken but never started), or false when there is nothing.
_CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local prompt = redis.call('LPOP', KEYS[2])
if not prompt then redis.call('SREM', KEYS[3], ARGV[1]) return false end
local token = redis.call('INCR', KEYS[4])
if redis.call('HGET', ARGV[2] .. prompt, 'state') == '"queued"' then
  redis.call('SREM', KEYS[3], ARGV[1])
  redis.call('LPUSH', KEYS[5], prompt)
  return {'requeued', prompt, token}
end
redis.call('LPUSH', KEYS[2], prompt)
return {'lost', prompt, token}
"""

# A session "running" with nothing running and nobody holding it goes back to settled.
# KEYS: session, running, lock, events. ARGV: now, stream max length, message.
_REPAIR_RUNNING = """
if redis.call('HGET', KEYS[1], 'state') ~= '"running"' then return false end
if redis.call('EXISTS', KEYS[3]) == 1 or redis.call('LLEN', KEYS[2]) > 0 then return false end
local pushed = redis.call('HGET', KEYS[1], 'pushed_commit')
local settled = (pushed and pushed ~= 'null') and 'pushed' or 'ready'
redis.call('HSET', KEYS[1], 'state', '"' .. settled .. '"', 'updated_at', ARGV[1])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[2], '*', 'kind', 'info', 'text', ARGV[3],
  'prompt', '', 'data', '{"repaired":true}', 'at', ARGV[1])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[2], '*', 'kind', 'state', 'text', settled,
  'prompt', '', 'data', '{}', 'at', ARGV[1])
return settled
"""


def recover_stale_runs(ctx: JobContext) -> list[str]:
    """Fail every run whose heartbeat has expired; returns the prompt ids recovered."""
    uptime = redis_uptime(ctx)
    if uptime < ctx.settings.heartbeat_timeout:
        return []  # Redis just came back: live runs get one heartbeat timeout to re-take leases
    claim = ctx.redis.register_script(_CLAIM)
    recovered: list[str] = []
    for raw in ctx.redis.smembers(keys.active_runs()):
        session_id = as_str(raw)
        claimed = claim(
            keys=[
                keys.run_lock(session_id),
                keys.running(session_id),
                keys.active_runs(),
                keys.lease(session_id),
                keys.queue(session_id),
            ],
            args=[session_id, keys.prompt("")],
        )
        if not claimed:
            continue
        what, prompt_id, token = (as_str(v) for v in claimed)
        if what == "lost":
            _fail_lost(ctx, session_id, prompt_id, token, uptime)
            recovered.append(prompt_id)
        ctx.service.kick(ctx.service.sessions.get(session_id), f"recover-{prompt_id}-{token}")
    return recovered


def _fail_lost(ctx: JobContext, session_id: str, prompt_id: str, token: str, uptime: float) -> None:
    prompt = ctx.service.prompts.get(prompt_id)
    host = ctx.service.sessions.get(session_id).host
    cause = lost_cause(uptime, prompt.started_at, _host_silent(ctx, host))
    message = LOST_MESSAGES[cause].format(host=host)
    prompt.state, prompt.error = PromptState.FAILED, message
    data = {"lost": True, "cause": cause.value, "host": host}
    event = ProgressEvent(EventKind.ERROR, message, prompt.id, data)
    RunState(ctx.redis, session_id, token).finish(prompt, event)
    log.warning("recovered run %s of session %s (%s)", prompt.id, session_id, cause.value)


def redis_uptime(ctx: JobContext) -> float:
    """Seconds since Redis started (a restart resets it); huge if it cannot say."""
    try:
        return float(ctx.redis.info("server").get("uptime_in_seconds", 1e12))
    except (RedisError, ValueError):
        return 1e12


def lost_cause(uptime: float, started_at: float | None, host_silent: bool = False) -> Cause:
    """A database that restarted since the run began took the run with it; a host that
    stopped beating took it with it; else its worker died."""
    if started_at is not None and uptime < time.time() - started_at:
        return Cause.DATABASE
    if host_silent:
        return Cause.HOST
    return Cause.WORKER


def _host_silent(ctx: JobContext, host: str | None) -> bool:
    """Has the run's host stopped beating too (two beats missed)?"""
    if not host:
        return False
    hosts = HostRegistry(ctx.redis, ctx.settings.host_timeout)
    return hosts.silent(host, longer_than=2 * hosts.interval)


def reconcile(ctx: JobContext) -> list[str]:
    """Repair sessions whose state contradicts the rest; returns the session ids touched."""
    repair = ctx.redis.register_script(_REPAIR_RUNNING)
    since = time.time() - max(ctx.settings.idle_archive_after, 3600)
    touched: list[str] = []
    for raw in ctx.redis.zrangebyscore(keys.sessions_index(), since, "+inf"):
        session_id = as_str(raw)
        settled = repair(
            keys=[
                keys.session(session_id),
                keys.running(session_id),
                keys.run_lock(session_id),
                keys.events(session_id),
            ],
            args=[repr(time.time()), 20_000, REPAIRED_RUNNING],
        )
        if settled:
            log.warning("session %s showed running with nothing running: repaired", session_id)
            touched.append(session_id)
        if _orphaned_queue(ctx, session_id):
            with contextlib.suppress(Exception):
                session = ctx.service.sessions.get(session_id)
                ctx.service.kick(session, f"resume-{session_id}-{int(time.time())}")
                touched.append(session_id)
    return touched


def _orphaned_queue(ctx: JobContext, session_id: str) -> bool:
    """Prompts wait, nothing runs, nobody holds the session: kick it (once in a while)."""
    pipe = ctx.redis.pipeline()
    pipe.llen(keys.queue(session_id))
    pipe.llen(keys.running(session_id))
    pipe.exists(keys.run_lock(session_id))
    waiting, running, locked = pipe.execute()
    if not waiting or running or locked:
        return False
    pause = int(max(10.0, ctx.settings.heartbeat_timeout))
    return bool(ctx.redis.set(keys.resume_kick(session_id), "1", nx=True, ex=pause))
