"""CI failed on a branch Repobox pushed: a "fix the CI" prompt runs in that session, then
its fix is pushed again.

Only a session's own work branch whose pushed commit is the failed head counts (never a
branch Repobox did not push, never an older commit of it). One attempt per failed head
commit (a Redis set per session of the heads tried, so a redelivery or a second suite on
the same head starts nothing), and at most `.repobox.yml` `ci_fix: attempts:` (default 2,
read from the base branch) per session; after that it says so once, and stops.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.checks.config import ConfigInvalid
from bot.checks.reading import read_config
from bot.core import keys
from bot.core.errors import RepoboxError, UserError
from bot.forges import registry as providers
from bot.forges.ci_runs import CiFailure, FailedJob, failed_jobs
from bot.forges.forge import ReplyTarget
from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.session import ACCEPTS_PROMPTS, Session
from jobs.session_jobs import context
from jobs.steps.context import JobContext

log = logging.getLogger(__name__)

TRIED_TTL = 30 * 24 * 3600  # the heads a session's CI fixes were tried on
SCAN = 500  # open sessions looked through for the failed branch


def handle_ci_failure(failure: dict[str, Any]) -> None:
    event = CiFailure.from_dict(failure)
    ctx = context()
    if not ctx.settings.triggers:
        return
    session = _session_for(ctx, event)
    if session is None:
        log.info("CI failed on %s %s: not a branch Repobox pushed", event.project, event.branch)
        return
    try:
        _fix(ctx, session, event)
    except RepoboxError as error:
        log.warning("CI fix of session %s not started: %s", session.id, error)


def _session_for(ctx: JobContext, event: CiFailure) -> Session | None:
    """The open session whose work branch this is and whose last push is the failed head."""
    for session in ctx.service.sessions.recent(limit=SCAN):
        if (
            session.provider == event.provider
            and session.project.lower() == event.project.lower()
            and session.work_branch == event.branch
            and session.pushed_commit == event.sha
            and session.state in ACCEPTS_PROMPTS
        ):
            return session
    return None


def _attempts(ctx: JobContext, session: Session) -> int:
    """`ci_fix: attempts:` of `.repobox.yml` on the session's base branch (default 2)."""
    provider = providers.for_name(session.provider, ctx.settings)
    repo = provider.resolve(session.project)
    mirror = ctx.mirrors.ensure(repo.clone_url, provider.credentials(session.project))
    _branch, commit = ctx.mirrors.resolve(mirror, session.base_branch or repo.default_branch)
    try:
        return read_config(mirror, commit).ci_fix
    except ConfigInvalid:
        return 0  # its mistakes are said where its checks run; a broken file fixes nothing


def _fix(ctx: JobContext, session: Session, event: CiFailure) -> None:
    attempts = _attempts(ctx, session)
    if attempts <= 0:
        return
    tried = keys.forge(event.provider, f"ci-tried:{session.id}")
    if not ctx.redis.sadd(tried, event.sha):
        return  # this head was tried (or is being tried) already
    ctx.redis.expire(tried, TRIED_TTL)
    if int(ctx.redis.scard(tried)) > attempts:
        _stop(ctx, session, event, attempts)
        return
    provider = providers.for_name(event.provider, ctx.settings)
    jobs = failed_jobs(provider, event, ctx.settings)
    person = session.created_by
    request = f"ci-{session.id}-{event.sha[:12]}"
    ctx.service.run(
        lambda service: service.submit(session, fix_prompt(event, jobs), person, request_id=request)
    )
    ctx.service.run(lambda service: service.ship(session, person, request_id=f"{request}-ship"))
    log.info("CI failed on %s@%s: fix prompt queued in %s", event.branch, event.sha[:8], session.id)


def fix_prompt(event: CiFailure, jobs: list[FailedJob]) -> str:
    """What the agent is asked: the failed jobs by name, each with its log's tail."""
    parts = [
        f"fix the CI: it failed on `{event.branch}` at {event.sha[:12]} ({event.url}).",
        "Find the cause in these failed jobs' logs, fix it, and keep the change small.",
    ]
    for job in jobs:
        tail = (job.tail or "(its log could not be read)").replace("```", "` ` `")
        parts.append(f"### {job.name}\n```\n{tail}\n```")
    if not jobs:
        parts.append("(No failed job was listed; look at the run's page.)")
    return "\n\n".join(parts)


def _stop(ctx: JobContext, session: Session, event: CiFailure, attempts: int) -> None:
    """Said once per session, where its people look: its stream (its home) and its MR/PR."""
    said = keys.forge(event.provider, f"ci-stopped:{session.id}")
    if not ctx.redis.set(said, event.sha, nx=True, ex=TRIED_TTL):
        return
    fixes = "fix" if attempts == 1 else "fixes"
    text = f"CI still fails after {attempts} {fixes}; stopping — see {event.url}"
    ProgressStream(ctx.redis, session.id).emit(EventKind.INFO, text, None)
    mr = session.merge_request
    if mr is None or mr.number is None:
        return
    try:
        forge = providers.forge_for(session.provider, ctx.settings)
        forge.post(ReplyTarget(session.project, "merge_request", mr.number), text)
    except (UserError, RepoboxError) as error:
        log.warning("could not say CI stops on %s: %s", mr.url, error)
