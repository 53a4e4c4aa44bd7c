"""Rebuilding a session's workdir on a new host: the mirror, then its last checkpoint copy.

In order of preference: the git bundle kept in Redis; the work branch on the forge (pushed
because the bundle was too big, or because the session was shipped); the base commit, when
nothing was kept, which the message says plainly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.core.errors import GitError, UserError
from bot.forges import registry as providers
from bot.git import bundles
from bot.git.mirrors import repo_key
from bot.git.runner import git
from bot.sessions.checkpoint_store import CheckpointStore, Where
from bot.sessions.session import Session
from jobs.steps.context import JobContext


@dataclass(frozen=True)
class Rebuilt:
    path: Path
    commit: str
    message: str  # what the thread is told


def rebuild(ctx: JobContext, session: Session) -> Rebuilt:
    if not session.clone_url or not session.base_commit:
        raise UserError("This session was never set up, so there is nothing to move.")
    provider = providers.for_name(session.provider, ctx.settings)
    mirror = ctx.mirrors.ensure(session.clone_url, provider.credentials(session.project))
    key = repo_key(session.clone_url)
    path, _pooled = ctx.workdirs.create(
        session.id, key, mirror, session.base_commit, session.work_branch
    )
    store = CheckpointStore(ctx.redis)
    copy = store.get(session.id)
    bundle = store.bundle(session.id) if copy and copy.where is Where.BUNDLE else None
    short = ctx.settings.host
    if copy is not None and bundle is not None:
        commit = bundles.apply(path, bundle, session.work_branch)
        return Rebuilt(
            path,
            commit,
            f"Moved to {short}: the workdir was rebuilt from the "
            f"last checkpoint (`{commit[:10]}`); queued prompts run here now.",
        )
    on_forge = copy is not None and copy.where is Where.FORGE
    if on_forge or session.pushed_commit:
        forged = _from_forge(path, mirror, session.work_branch)
        if forged:
            commit = forged
            return Rebuilt(
                path,
                commit,
                f"Moved to {short}: the workdir was rebuilt from "
                f"`{session.work_branch}` on the repository (`{commit[:10]}`); "
                "queued prompts run here now.",
            )
    diff = ctx.service.run(lambda service: service.diff(session))
    changed = bool((diff.get("stat") or {}).get("files"))
    kept_nothing = copy.where is not Where.BASE if copy is not None else changed
    note = (
        " Changes made on the lost machine were not kept elsewhere and are lost."
        if kept_nothing
        else ""
    )
    return Rebuilt(
        path,
        session.base_commit,
        f"Moved to {short}: the workdir starts again "
        f"from the base (`{session.base_commit[:10]}`).{note} Queued prompts run "
        "here now.",
    )


def _from_forge(path: Path, mirror: Path, branch: str) -> str | None:
    """The work branch as pushed (the mirror was just fetched, with every branch)."""
    try:
        git("fetch", "--quiet", "origin", cwd=path, remote=str(mirror), timeout=600)
        git("checkout", "--quiet", "--force", "-B", branch, f"origin/{branch}", "--", cwd=path)
    except GitError:
        return None
    return git("rev-parse", "HEAD", cwd=path).strip() or None
