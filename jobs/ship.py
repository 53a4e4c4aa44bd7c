"""Shipping: push the work branch, then open (or update) the merge request.

Shipping again pushes the new commits to the same branch and updates the open MR/PR, so
`ship it` can always be asked for again without harm.
"""

from __future__ import annotations

from pathlib import Path

from bot import acting
from bot.config import Settings
from bot.errors import UpstreamError, UserError
from bot.git import checkpoints
from bot.progress import EventKind, ProgressEvent, ProgressStream
from bot.progress.result import RunResult
from bot.prompts import Action, Prompt, PromptState
from bot.providers import registry as providers
from bot.providers.base import MergeRequest
from bot.security.redaction import Redactor
from bot.sessions import Session
from bot.values import MergeRequestRef
from jobs.runtime import JobContext


def ship(ctx: JobContext, session: Session, prompt: Prompt) -> ProgressEvent:
    """Push and open the MR/PR; returns the event that ends the item (the caller records it)."""
    workdir = Path(session.workdir or "")
    if session.base_commit and checkpoints.head(workdir) == session.base_commit:
        raise UserError(
            "Nothing to ship yet: there are no changes on the work branch.",
            hint="Send a prompt first.",
        )
    merge_request = _push_and_open(ctx, session)
    session = ctx.service.sessions.get(session.id)
    where = f" to `{session.project}`"
    text = f"Pushed `{session.work_branch}`{where}."
    if merge_request is not None:
        verb = "Opened" if merge_request.created else "Updated"
        text = f"{verb} merge request {merge_request.url}"
    prompt.state = PromptState.DONE
    prompt.summary = text
    prompt.result = RunResult(
        branch=session.work_branch, url=merge_request.url if merge_request else None
    )
    data = {
        "branch": session.work_branch,
        "url": merge_request.url if merge_request else None,
        "commit": session.pushed_commit,
    }
    return ProgressEvent(EventKind.SHIPPED, text, prompt.id, data)


def push_update(ctx: JobContext, session: Session, prompt: Prompt) -> None:
    """After a run on a shipped session: push, so the open MR/PR shows the new commit."""
    stream = ProgressStream(ctx.redis, session.id)
    try:
        merge_request = _push_and_open(ctx, session)
    except (UserError, UpstreamError) as error:
        stream.emit(
            EventKind.ERROR,
            f"Could not update the merge request: {error} Say `ship it` to retry.",
            prompt.id,
        )
        return
    where = merge_request.url if merge_request else f"`{session.work_branch}`"
    stream.emit(
        EventKind.INFO,
        f"Pushed the new commit to {where}.",
        prompt.id,
        url=merge_request.url if merge_request else None,
    )


def shipping_settings(ctx: JobContext, session: Session) -> Settings:
    """Whose token pushes and opens the MR/PR: the starter's linked one, else the bot's."""
    linked = acting.starter_credential(ctx.settings, ctx.redis, session)
    return acting.as_person(ctx.settings, linked)


def _push_and_open(ctx: JobContext, session: Session) -> MergeRequest | None:
    settings = shipping_settings(ctx, session)
    provider = providers.for_name(session.provider, settings)
    repo = provider.resolve(session.project)
    credentials = provider.credentials()
    redact = Redactor(settings.secret_values())
    try:
        commit = checkpoints.push(
            Path(session.workdir or ""), repo.clone_url, session.work_branch, credentials
        )
    except UpstreamError as error:
        raise UserError(f"Pushing `{session.work_branch}` failed: {redact(str(error))}") from None
    ctx.service.sessions.update(session.id, pushed_commit=commit)
    try:
        merge_request = provider.open_or_update_merge_request(
            repo,
            branch=session.work_branch,
            base=session.base_branch or repo.default_branch or "main",
            title=merge_request_title(session),
            description=merge_request_description(ctx, session),
        )
    except UpstreamError as error:
        raise UserError(
            f"The branch is pushed, but opening the merge request failed: {redact(str(error))}",
            hint="Say `ship it` again to retry.",
        ) from None
    if merge_request is not None:
        ref = MergeRequestRef(merge_request.url, merge_request.number)
        ctx.service.sessions.update(session.id, merge_request=ref)
    return merge_request


def merge_request_title(session: Session) -> str:
    title = session.title or session.work_branch
    return title if len(title) <= 120 else title[:119] + "…"


def merge_request_description(ctx: JobContext, session: Session) -> str:
    """The prompts, the agent's summaries and the diff stat, so reviewers see the why."""
    lines = [f"Opened by Repobox for {session.created_by.name}.", "", "## Prompts", ""]
    for item in ctx.service.prompts.history(session.id):
        if item.action is not Action.RUN or item.state is not PromptState.DONE:
            continue
        lines.append(f"{item.seq}. **{item.author.name}**: {item.text.strip()}")
        if item.summary:
            lines.extend(f"   > {line}" for line in item.summary.strip().splitlines()[:12])
    diff = ctx.service.diff(session)
    if diff.get("stat"):
        lines += ["", "## Changes", ""]
        lines += [
            f"- `{f['path']}` (+{f['added']} −{f['removed']})" for f in diff["stat"]["files"][:50]
        ]
    if session.context is not None and session.context.closes:
        lines += ["", f"Closes {session.context.closes}"]
    return "\n".join(lines)
