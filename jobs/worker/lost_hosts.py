"""A lost host is not a lost session: the worker's side.

Each worker beats for its host (`HostBeat`). In the watchdog pass, a dead run whose host has
stopped beating too fails with a message that names the cause; once the host has been
silent for REPOBOX_HOST_TIMEOUT, each of its sessions is handed to `adopt_session` on any
live host, which rebuilds the workdir from the mirror and the last checkpoint copy and
then lets the session's queue run there.
"""

from __future__ import annotations

import logging
import threading
import time

from rq import Queue
from rq.serializers import JSONSerializer

from bot.core import disk, keys
from bot.core.dispatch import RUN_QUEUE, host_queue
from bot.core.errors import NotFound
from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.hosts import HostRegistry
from bot.sessions.session import SessionState
from jobs import session_jobs
from jobs.hosts import CLOSED, adopt_session
from jobs.steps.context import JobContext

log = logging.getLogger(__name__)


def registry(ctx: JobContext) -> HostRegistry:
    return HostRegistry(ctx.redis, ctx.settings.host_timeout)


class HostBeat(threading.Thread):
    """Beats for this worker's host, with the data dir's free space, until stopped."""

    def __init__(self, ctx: JobContext) -> None:
        super().__init__(name="repobox-host-beat", daemon=True)
        self.ctx = ctx
        self.registry = registry(ctx)
        self.stopping = threading.Event()

    def beat(self) -> None:
        settings = self.ctx.settings
        self.registry.beat(settings.host, disk.free_mb(settings.data_dir))

    def run(self) -> None:
        while True:
            try:
                self.beat()
            except Exception:
                log.exception("host heartbeat failed; trying again")
            if self.stopping.wait(self.registry.interval):
                return


def move_sessions_from_lost_hosts(ctx: JobContext) -> list[str]:
    """Hand every open session of a lost host to a live one; returns the ids handed over."""
    hosts = registry(ctx)
    moving: list[str] = []
    for host in hosts.lost():
        if host == ctx.settings.host:
            continue  # we are alive: our own beat merely lapsed
        remaining = 0
        for session_id in hosts.pinned(host):
            if _hand_over(ctx, hosts, host, session_id):
                moving.append(session_id)
            if ctx.redis.sismember(keys.host_sessions(host), session_id):
                remaining += 1
        if not remaining:
            # Nothing lives there any more: its queue holds only jobs for sessions that moved.
            Queue(host_queue(host), connection=ctx.redis, serializer=JSONSerializer).empty()  # type: ignore[no-untyped-call]
            hosts.forget(host)
            log.warning("host %s is lost; all its sessions have moved", host)
    return moving


def _hand_over(ctx: JobContext, hosts: HostRegistry, host: str, session_id: str) -> bool:
    try:
        session = ctx.service.sessions.get(session_id)
    except NotFound:
        hosts.unpin(host, session_id)
        return False
    if session.state is SessionState.INITIALIZING:
        return _set_up_again(ctx, hosts, host, session_id)
    if session.host != host or session.state in CLOSED:
        hosts.unpin(host, session_id)
        return False
    if ctx.redis.exists(keys.run_lock(session_id)) or ctx.redis.llen(keys.running(session_id)):
        return False  # its run is not settled yet; the watchdog settles it first
    minute = int(time.time() // 60)
    return ctx.service.dispatch.enqueue(
        adopt_session,
        job_id=f"adopt-{session_id}-{host}-{minute}",
        queue=RUN_QUEUE,
        timeout=1800,
        session_id=session_id,
        lost_host=host,
    )


def _set_up_again(ctx: JobContext, hosts: HostRegistry, host: str, session_id: str) -> bool:
    """A session whose set-up died with its host: set it up again on a live one."""
    if ctx.redis.exists(keys.run_lock(session_id)):
        return False  # the dead set-up's lock has not expired yet
    minute = int(time.time() // 60)
    enqueued = ctx.service.dispatch.enqueue(
        session_jobs.init_session,
        job_id=f"init-{session_id}-after-{host}-{minute}",
        queue=RUN_QUEUE,
        timeout=1800,
        session_id=session_id,
    )
    hosts.unpin(host, session_id)
    if enqueued:
        ProgressStream(ctx.redis, session_id).emit(
            EventKind.INFO,
            f"The machine setting this session up ({host}) stopped answering; "
            "setting it up again on another one.",
        )
    return enqueued
