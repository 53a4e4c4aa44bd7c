"""After each checkpoint: keep a copy any host can reach, so a lost host loses no session.

The copy is a git bundle of the work branch since its base, stored in Redis up to a size
cap. Beyond the cap the thread is told, and with REPOBOX_CHECKPOINT_PUSH=1 the work branch
is pushed to the forge instead. A shipped session's branch is on the forge already. Saving
is a side channel: it logs and tells the thread, and never fails the run.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from redis.exceptions import RedisError

from bot.core.errors import RepoboxError
from bot.forges import registry as providers
from bot.git import bundles, checkpoints
from bot.sessions.checkpoint_store import CheckpointCopy, CheckpointStore, Where
from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.session import Session
from jobs.steps.context import JobContext

log = logging.getLogger(__name__)


def save(ctx: JobContext, session: Session, workdir: Path, prompt_id: str) -> Where | None:
    """Keep the workdir's checkpoint reachable from any host; returns where it went."""
    try:
        return _save(ctx, session, workdir, prompt_id)
    except (RepoboxError, OSError, RedisError):  # e.g. Redis refusing writes: the run goes on
        log.exception("could not keep a copy of session %s's checkpoint", session.id)
        return None


def _save(ctx: JobContext, session: Session, workdir: Path, prompt_id: str) -> Where:
    store = CheckpointStore(ctx.redis)
    commit = checkpoints.head(workdir)
    if session.base_commit is None or commit == session.base_commit:
        store.put(session.id, CheckpointCopy(commit, Where.BASE, prompt_id, 0, time.time()))
        return Where.BASE
    bundle = bundles.create(workdir, session.base_commit, session.work_branch)
    cap = ctx.settings.checkpoint_bundle_max
    if len(bundle) <= cap:
        copy = CheckpointCopy(commit, Where.BUNDLE, prompt_id, len(bundle), time.time())
        store.put(session.id, copy, bundle)
        return Where.BUNDLE
    return _over_cap(ctx, session, workdir, prompt_id, commit, len(bundle))


def _over_cap(
    ctx: JobContext, session: Session, workdir: Path, prompt_id: str, commit: str, size: int
) -> Where:
    store = CheckpointStore(ctx.redis)
    stream = ProgressStream(ctx.redis, session.id)
    sizes = f"{_size(size)}, over the {_size(ctx.settings.checkpoint_bundle_max)}"
    if ctx.settings.checkpoint_push or session.shipped:
        provider = providers.for_name(session.provider, ctx.settings)
        remote = provider.resolve(session.project).clone_url
        checkpoints.push(
            workdir, remote, session.work_branch, provider.credentials(session.project)
        )
        store.put(session.id, CheckpointCopy(commit, Where.FORGE, prompt_id, size, time.time()))
        if not session.shipped:
            stream.emit(
                EventKind.INFO,
                f"This checkpoint is {sizes} the database keeps, so `{session.work_branch}` "
                "was pushed to the repository instead: another machine can take the session "
                "over from there if this one is lost.",
                prompt_id,
            )
        return Where.FORGE
    previous = store.get(session.id)
    stream.emit(
        EventKind.INFO,
        f"This checkpoint is {sizes} the database keeps, so if this machine is lost the "
        "session resumes from "
        + ("its previous checkpoint" if previous else "the base branch")
        + " (an operator can set REPOBOX_CHECKPOINT_PUSH=1 to push the work branch instead).",
        prompt_id,
    )
    return previous.where if previous else Where.BASE


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    if count < 2**20:
        return f"{count / 1024:.0f} KB"
    return f"{count / 2**20:.1f} MB"
