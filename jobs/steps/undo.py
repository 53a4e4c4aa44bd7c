"""`undo` in the worker that holds the workdir: take back the last checkpoint.

Queued like a ship, so it never races a run; whether the checkpoint was pushed is asked
of the forge (`git ls-remote`), because only a commit nobody has seen may be dropped.
"""

from __future__ import annotations

from pathlib import Path

from bot.core.errors import UpstreamError, UserError
from bot.forges import registry as providers
from bot.git.undo import pushed_commit, undo_checkpoint
from bot.sessions.events import EventKind, ProgressEvent
from bot.sessions.prompts import Prompt
from bot.sessions.results import RunResult
from bot.sessions.session import Session
from jobs.steps import checkpoint_copies
from jobs.steps.agent_turn import session_diff
from jobs.steps.context import JobContext
from jobs.steps.ship import push_update


def undo(ctx: JobContext, session: Session, prompt: Prompt) -> tuple[ProgressEvent, str]:
    """The event that ends the item and the session's diff after it."""
    workdir = Path(session.workdir or "")
    if not session.base_commit:
        raise UserError("There is nothing to undo: the session has no base commit yet.")
    pushed = _pushed(ctx, session) if session.pushed_commit else None
    undone = undo_checkpoint(
        workdir,
        base=session.base_commit,
        pushed=pushed,
        asked_by=prompt.author,
        bot_name=ctx.settings.git_author_name,
        bot_email=ctx.settings.git_author_email,
    )
    checkpoint_copies.save(ctx, session, workdir, prompt.id)
    stat, diff = session_diff(session, workdir)
    if undone.reverted and session.shipped:
        push_update(ctx, session, prompt)  # the open MR/PR shows the revert at once
    text = undone.summary()
    prompt.summary = text
    prompt.result = RunResult(
        files=(), diffstat=undone.change.summary(), session_diffstat=stat.summary()
    )
    data = {**prompt.result.to_dict(), "undo": undone.to_dict()}
    return ProgressEvent(EventKind.RESULT, text, prompt.id, data), diff


def _pushed(ctx: JobContext, session: Session) -> str | None:
    provider = providers.for_name(session.provider, ctx.settings)
    repo = provider.resolve(session.project)
    try:
        return pushed_commit(
            repo.clone_url, session.work_branch, provider.credentials(session.project)
        )
    except UpstreamError:
        return session.pushed_commit  # assume the forge has what we last pushed: revert
