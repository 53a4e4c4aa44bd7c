"""The RQ entry points. Each takes ids only and finds everything else in Redis."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

from bot.commands import repo_spec
from bot.core import disk
from bot.core.config import Settings
from bot.core.dispatch import SessionJobs
from bot.core.errors import NotFound, UpstreamError, UserError
from bot.core.logs import crash_reference
from bot.core.redisio import connect, locate
from bot.forges import registry as providers
from bot.git.instructions import read_instructions
from bot.git.mirrors import repo_key
from bot.identity import acting
from bot.progress.relays import Relays
from bot.sessions import retention
from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.hosts import HostRegistry
from bot.sessions.runlock import SessionLock
from bot.sessions.session import Person, Session, SessionState
from bot.surfaces.registry import sink_for
from jobs.steps import context as job_context
from jobs.steps.context import JobContext

log = logging.getLogger(__name__)

SYSTEM = Person("repobox", "Repobox")

# _worker_only: the runs' modules (agents, the Anthropic SDK, MCP) are imported inside the
# jobs that use them, so that every `./dev session …` command, which imports this module only
# to name its jobs when it enqueues them, starts in a second instead of two and a half.


def context() -> JobContext:
    """The worker's installed context; a process that installed none (a plain `rq worker`)
    builds one from the environment on first use."""
    ctx = job_context.installed()
    if ctx is None:
        settings = Settings.from_env()
        redis = connect(locate(settings))
        ctx = job_context.install(job_context.build(settings, redis, SESSION_JOBS))
    return ctx


def init_session(session_id: str) -> None:
    """Resolve the repository, refresh its mirror and make the workdir on the work branch."""
    ctx = context()
    sessions = ctx.service.sessions
    session = sessions.get(session_id)
    if session.state is not SessionState.INITIALIZING:
        return
    lock = SessionLock(ctx.redis, session_id, timeout=600)
    if not lock.acquire():
        return
    # Pinned from the start, so a set-up that dies with this host is done again elsewhere.
    HostRegistry(ctx.redis, ctx.settings.host_timeout).pin(ctx.settings.host, session_id)
    stream = ProgressStream(ctx.redis, session_id)
    try:
        with Relays(ctx.settings, ctx.redis, session_id, sink_for, followup=ctx.relay_later):
            _init(ctx, session_id, stream)
    finally:
        lock.release()
    ctx.service.kick(sessions.get(session_id), f"{session_id}-ready")


def _init(ctx: JobContext, session_id: str, stream: ProgressStream) -> None:
    sessions = ctx.service.sessions
    session = sessions.get(session_id)
    started = time.monotonic()
    try:
        disk.check(ctx.settings.data_dir, ctx.settings.min_free_mb, ctx.settings.host)
        # Checked again here, where git runs: what was stored is held to the same rules.
        reach = repo_spec.Reach.of_surface(session.thread.surface)
        spec = repo_spec.parse(
            repo_spec.canonical(session.provider, session.project), ctx.settings, reach
        )
        refused = acting.refusal(ctx.settings, ctx.redis, session)  # before anything runs
        if refused is not None:
            raise UserError(refused)
        provider = providers.for_name(spec.provider, ctx.settings)
        repo = provider.resolve(spec.project)
        mirror = ctx.mirrors.ensure(repo.clone_url, provider.credentials(spec.project))
        branch, commit = ctx.mirrors.resolve(mirror, session.base_branch or repo.default_branch)
        # From the branch the work goes into, never the one under review (a MR's source),
        # unless the surface that started the session brought them already.
        target = (session.context and session.context.target_branch) or branch
        instructions = session.instructions
        if instructions is None:
            instructions = read_instructions(mirror, str(target))
        key = repo_key(repo.clone_url)
        workdir, pooled = ctx.workdirs.create(session_id, key, mirror, commit, session.work_branch)
    except (UserError, UpstreamError) as error:  # UpstreamError: a host that kept failing
        _fail(ctx, session_id, stream, str(error))
        return
    except Exception:
        ref = crash_reference(log, f"setting up session {session_id} failed")
        _fail(ctx, session_id, stream, f"Setting up the workdir failed on our side (ref {ref}).")
        return
    sessions.update(
        session_id,
        instructions=instructions,
        base_branch=branch,
        base_commit=commit,
        workdir=str(workdir),
        clone_url=repo.clone_url,
        host=ctx.settings.host,
    )
    sessions.transition(session_id, SessionState.READY)
    took = time.monotonic() - started
    stream.emit(
        EventKind.STATE,
        SessionState.READY.value,
        branch=session.work_branch,
        base=branch,
        commit=commit,
        seconds=round(took, 3),
        pooled=pooled,
    )
    ctx.service.dispatch.enqueue(
        refill_pool,
        job_id=f"refill-{session_id}",
        queue="repobox-fast",
        timeout=3600,
        session_id=session_id,
    )


def _fail(ctx: JobContext, session_id: str, stream: ProgressStream, message: str) -> None:
    ctx.service.sessions.update(session_id, error=message)
    HostRegistry(ctx.redis, ctx.settings.host_timeout).unpin(ctx.settings.host, session_id)
    ctx.service.sessions.transition(session_id, SessionState.FAILED)
    ctx.service.prompts.drop_waiting(session_id, "the session could not be set up")
    stream.emit(EventKind.ERROR, message)
    stream.emit(EventKind.STATE, SessionState.FAILED.value)


def drain_session(session_id: str) -> None:
    """Run the session's waiting prompts and ships, one at a time, in order."""
    from jobs.steps import drain as runner  # see _worker_only

    runner.drain(context(), session_id)


def retire_session(session_id: str) -> None:
    """After archiving: recycle or delete the workdir; the log expires later."""
    ctx = context()
    session = ctx.service.sessions.get(session_id)
    if session.workdir:
        ctx.workdirs.remove(
            Path(session.workdir), repo_key(session.clone_url) if session.clone_url else None
        )
        ctx.service.sessions.update(session_id, workdir=None)
    from bot.agents import claude_code  # see _worker_only
    from jobs.steps import compare

    compare.discard(ctx, session)  # an unpicked comparison's candidates
    shutil.rmtree(claude_code.config_dir(ctx.settings, session_id), ignore_errors=True)
    if session.host:
        HostRegistry(ctx.redis, ctx.settings.host_timeout).unpin(session.host, session_id)
    with Relays(ctx.settings, ctx.redis, session_id, sink_for):
        pass  # deliver the archive to the surface (the card shows it)
    # The relay may have written surface state afresh: expire it with the rest.
    retention.expire_session(ctx.redis, session_id, ctx.settings.retention_seconds)


def refill_pool(session_id: str) -> None:
    """Keep ready workdirs for the repository of a session that just started."""
    ctx = context()
    session = ctx.service.sessions.get(session_id)
    if not session.clone_url:
        return
    provider = providers.for_name(session.provider, ctx.settings)
    mirror = ctx.mirrors.ensure(session.clone_url, provider.credentials(session.project))
    _branch, commit = ctx.mirrors.resolve(mirror, None)
    made = ctx.workdirs.refill(repo_key(session.clone_url), mirror, commit)
    log.info("pool for %s refilled with %d workdirs", session.project, made)


BUSY = frozenset({SessionState.INITIALIZING, SessionState.RUNNING})


def archive_idle() -> int:
    """Archive sessions idle for longer than the configured time; returns how many."""
    ctx = context()
    cutoff = time.time() - ctx.settings.idle_archive_after
    archived = 0
    for session_id in ctx.service.sessions.idle_since(cutoff):
        try:
            session = ctx.service.sessions.get(session_id)
        except NotFound:  # expired data under a stale index entry
            ctx.service.sessions.mark_archived(session_id, at=1.0)
            continue
        if session.state is SessionState.ARCHIVED:  # archived before the archived index existed
            ctx.service.sessions.mark_archived(session_id, at=session.updated_at)
            retention.expire_session(ctx.redis, session_id, ctx.settings.retention_seconds)
            continue
        if session.state in BUSY or ctx.service.prompts.has_waiting(session_id):
            continue  # work is under way or waits its turn: not idle, however old its activity
        _archive(ctx, session)
        archived += 1
    return archived


def _archive(ctx: JobContext, session: Session) -> None:
    ctx.service.run(lambda service: service.archive(session, SYSTEM))


def relay_session(session_id: str) -> None:
    """A follow-up relay (run queue, behind waiting prompts): sends a final reply that
    Slack's budget held back past its bound in the job that ran the prompt; deferred again
    if the budget is still short, so no worker ever sits out a workspace's minute."""
    ctx = context()
    with Relays(ctx.settings, ctx.redis, session_id, sink_for, followup=ctx.relay_later):
        pass


SESSION_JOBS = SessionJobs(
    init=init_session, drain=drain_session, retire=retire_session, relay=relay_session
)
