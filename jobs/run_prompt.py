"""One prompt run: the agent in the workdir, then a checkpoint commit and the result.

Whatever the agent did is committed even when the run fails, is cancelled or hits its
time limit, so nothing is lost and the next prompt starts from a clean tree.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot import keys, metrics
from bot.agents import RunControl, RunRequest, make_agent
from bot.errors import AgentError
from bot.git import checkpoints
from bot.git.checkpoints import DiffStat
from bot.progress import EventKind, ProgressEvent, ProgressStream
from bot.prompts import Action, Prompt, PromptState
from bot.security.redaction import Redactor
from bot.sessions import Session
from jobs import checkpoint_copies
from jobs.runtime import JobContext
from jobs.ship import push_update

PATCH_LIMIT = 400_000


def run_prompt(ctx: JobContext, session: Session, prompt: Prompt, control: RunControl) -> None:
    workdir = Path(session.workdir or "")
    stream = ProgressStream(ctx.redis, session.id)
    redact = Redactor(ctx.settings.secret_values())
    start_commit = checkpoints.head(workdir)
    history = tuple(
        p
        for p in ctx.service.prompts.history(session.id)
        if p.action is Action.RUN and p.state is PromptState.DONE and p.id != prompt.id
    )
    request = RunRequest(prompt.text, workdir, session, prompt.author, history, prompt.origin)
    started = time.monotonic()
    result: ProgressEvent | None = None
    failure: str | None = None
    try:
        for event in make_agent(ctx.settings).run(request, control):
            if event.kind is EventKind.RESULT:
                result = event
                continue
            stream.append(replace(event, text=redact(event.text), prompt_id=prompt.id))
    except AgentError as error:
        failure = redact(str(error))
    duration = time.monotonic() - started

    commit = checkpoints.checkpoint(
        workdir,
        _commit_subject(prompt, control, failure),
        prompt.author,
        ctx.settings.git_author_name,
        ctx.settings.git_author_email,
    )
    run_stat = checkpoints.diffstat(workdir, start_commit)
    session_stat = record_diff(ctx, session, workdir)
    if commit:
        checkpoint_copies.save(ctx, session, workdir, prompt.id)  # reachable from any host
    kept = f" {run_stat.summary()} kept in a checkpoint." if commit else ""

    if control.cancelled:
        prompt.state, prompt.error = PromptState.CANCELLED, f"cancelled after {duration:.0f}s"
        stream.emit(EventKind.CANCELLED, f"Cancelled after {duration:.0f}s.{kept}", prompt.id)
    elif control.expired:
        limit = control.time_limit / 60
        prompt.state, prompt.error = PromptState.FAILED, f"hit the {limit:.0f}-minute time limit"
        stream.emit(
            EventKind.ERROR, f"Stopped at the {limit:.0f}-minute time limit.{kept}", prompt.id
        )
    elif failure is not None:
        prompt.state, prompt.error = PromptState.FAILED, failure
        stream.emit(EventKind.ERROR, f"{failure}{kept}", prompt.id)
    else:
        summary = redact(result.text if result else "") or "Done."
        prompt.state, prompt.summary = PromptState.DONE, summary
        data: dict[str, Any] = dict(result.data) if result else {}
        data.update(
            duration_s=round(duration, 2),
            commit=commit,
            files=[f.to_dict() for f in run_stat.files],
            diffstat=run_stat.summary(),
            session_diffstat=session_stat.summary(),
        )
        prompt.result = data
        stream.emit(EventKind.RESULT, summary, prompt.id, **data)
    metrics.record_run(ctx.redis, prompt.state.value, duration, prompt.result)
    if commit and session.shipped:
        push_update(ctx, session, prompt)


def record_diff(ctx: JobContext, session: Session, workdir: Path) -> DiffStat:
    """Store the session's diff in Redis so `diff` and the log page need no workdir access."""
    base = session.base_commit or checkpoints.head(workdir)
    stat = checkpoints.diffstat(workdir, base)
    patch = checkpoints.diff_text(workdir, base)
    truncated = len(patch) > PATCH_LIMIT
    payload = {"stat": stat.to_dict(), "patch": patch[:PATCH_LIMIT], "truncated": truncated}
    ctx.redis.set(keys.diff(session.id), json.dumps(payload))
    return stat


def _commit_subject(prompt: Prompt, control: RunControl, failure: str | None) -> str:
    if control.cancelled:
        return f"{prompt.text}\n\n(run cancelled; partial work)"
    if control.expired or failure:
        return f"{prompt.text}\n\n(run stopped early; partial work)"
    return prompt.text
