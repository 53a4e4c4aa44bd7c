"""A lost host is not a lost session: `adopt_session`, the job a live host runs for each
session of a host that stopped beating (`jobs.worker.lost_hosts` hands them over). It
rebuilds the workdir from the mirror and the last checkpoint copy, then lets the session's
queue run there.
"""

from __future__ import annotations

import logging
import uuid

from bot.progress.relays import Relays
from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.hosts import HostRegistry
from bot.sessions.runlock import SessionLock
from bot.sessions.session import SessionState
from bot.surfaces.registry import sink_for
from jobs.session_jobs import context
from jobs.steps import workdir_rebuild

log = logging.getLogger(__name__)

CLOSED = frozenset({SessionState.ARCHIVED, SessionState.FAILED})


def adopt_session(session_id: str, lost_host: str) -> None:
    """Rebuild a lost host's session here, then run what waits in its queue."""
    ctx = context()
    hosts = HostRegistry(ctx.redis, ctx.settings.host_timeout)
    session = ctx.service.sessions.get(session_id)
    if session.host != lost_host or session.state in CLOSED or hosts.alive(lost_host):
        return
    lock = SessionLock(ctx.redis, session_id, timeout=600)
    if not lock.acquire():
        return  # a later watchdog pass hands it over again
    stream = ProgressStream(ctx.redis, session_id)
    try:
        with Relays(ctx.settings, ctx.redis, session_id, sink_for):
            stream.emit(
                EventKind.INFO,
                f"The machine this session lived on ({lost_host}) stopped answering; "
                f"moving the session to {ctx.settings.host}.",
                moving_from=lost_host,
            )
            rebuilt = workdir_rebuild.rebuild(ctx, session)
            ctx.service.sessions.update(
                session_id, host=ctx.settings.host, workdir=str(rebuilt.path)
            )
            hosts.pin(ctx.settings.host, session_id)
            hosts.unpin(lost_host, session_id)
            stream.emit(EventKind.INFO, rebuilt.message, moved_to=ctx.settings.host)
    finally:
        lock.release()
    ctx.service.kick(ctx.service.sessions.get(session_id), f"moved-{uuid.uuid4().hex[:8]}")
