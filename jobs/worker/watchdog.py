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

from bot.sessions.events import EventKind, ProgressEvent
from bot.sessions.hosts import HostRegistry
from bot.sessions.recovery import Claimed, Found, Recovery
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


def recover_stale_runs(ctx: JobContext) -> list[str]:
    """Fail every run whose heartbeat has expired; returns the prompt ids recovered."""
    uptime = redis_uptime(ctx)
    if uptime < ctx.settings.heartbeat_timeout:
        return []  # Redis just came back: live runs get one heartbeat timeout to re-take leases
    recovery = Recovery(ctx.redis)
    recovered: list[str] = []
    for session_id in recovery.active():
        prompt_id = settle_claim(ctx, session_id, recovery.claim(session_id), uptime)
        if prompt_id is not None:
            recovered.append(prompt_id)
    return recovered


def settle_claim(
    ctx: JobContext, session_id: str, claimed: Claimed | None, uptime: float
) -> str | None:
    """After a takeover: fail the lost run (its id returned) and move the queue on."""
    if claimed is None:
        return None
    prompt_id, token = claimed.prompt_id, claimed.token
    if claimed.found is Found.LOST:
        _fail_lost(ctx, session_id, prompt_id, token, uptime)
    ctx.service.kick(ctx.service.sessions.get(session_id), f"recover-{prompt_id}-{token}")
    return prompt_id if claimed.found is Found.LOST else None


def _fail_lost(ctx: JobContext, session_id: str, prompt_id: str, token: str, uptime: float) -> None:
    prompt = ctx.service.prompts.get(prompt_id)
    host = ctx.service.sessions.get(session_id).host
    cause = lost_cause(uptime, prompt.started_at, _host_silent(ctx, host))
    message = LOST_MESSAGES[cause].format(host=host)
    prompt.error = message
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
    recovery = Recovery(ctx.redis)
    since = time.time() - max(ctx.settings.idle_archive_after, 3600)
    pause = max(10.0, ctx.settings.heartbeat_timeout)
    touched: list[str] = []
    for session_id in recovery.active_since(since):
        if recovery.repair(session_id, REPAIRED_RUNNING) is not None:
            log.warning("session %s showed running with nothing running: repaired", session_id)
            touched.append(session_id)
        if recovery.orphaned(session_id, pause):  # prompts wait and nobody drains them
            with contextlib.suppress(Exception):
                session = ctx.service.sessions.get(session_id)
                ctx.service.kick(session, f"resume-{session_id}-{int(time.time())}")
                touched.append(session_id)
    return touched
