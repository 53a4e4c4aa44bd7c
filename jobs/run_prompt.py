"""One prompt run: the agent in the workdir, then a checkpoint commit and the result.

Whatever the agent did is committed even when the run fails, is cancelled or hits its
time limit, so nothing is lost and the next prompt starts from a clean tree. Two cases
commit nothing: a run whose lease was taken over (another process owns the session now),
and a run stopped because its host is shutting down, whose partial work is shelved in a
stash so the prompt can run again from the start after the restart.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError

from bot import metrics
from bot.agents import RunControl, RunRequest, make_agent
from bot.errors import AgentError
from bot.git import checkpoints
from bot.git.checkpoints import DiffStat
from bot.progress import EventKind, ProgressEvent, ProgressStream
from bot.progress.result import RunResult
from bot.prompts import Action, Prompt, PromptState
from bot.security.redaction import Redactor
from bot.sessions import Person, Session
from jobs import checkpoint_copies
from jobs.runtime import JobContext
from jobs.ship import push_update

log = logging.getLogger(__name__)

PATCH_LIMIT = 400_000


class LeaseLost(Exception):
    """Another process took this run's lease over: change nothing."""


class HandBack(Exception):
    """The host is stopping: the prompt goes back to the head of the queue."""


@dataclass(frozen=True)
class Outcome:
    event: ProgressEvent  # ends the prompt; recorded with the outcome in one step
    diff: str | None  # the session's diff payload (JSON) as of this checkpoint


def run_prompt(
    ctx: JobContext,
    session: Session,
    prompt: Prompt,
    control: RunControl,
    held: Callable[[], bool],
) -> Outcome:
    workdir = Path(session.workdir or "")
    redact = Redactor(ctx.settings.secret_values())
    if not held():
        raise LeaseLost
    _keep_leftovers(ctx, workdir)
    start_commit = checkpoints.head(workdir)
    history = tuple(
        p
        for p in ctx.service.prompts.history(session.id)
        if p.action is Action.RUN and p.state is PromptState.DONE and p.id != prompt.id
    )
    request = RunRequest(prompt.text, workdir, session, prompt.author, history, prompt.origin)
    started = time.monotonic()
    result, failure = _drive(ctx, request, control, prompt.id)
    duration = time.monotonic() - started
    finished = result is not None and failure is None

    if not held():
        raise LeaseLost
    if control.reason == "shutdown" and not finished:
        checkpoints.shelve(workdir, f"interrupted run of {prompt.id} (Repobox restarted)")
        raise HandBack
    commit = checkpoints.checkpoint(
        workdir,
        _commit_subject(prompt, control, failure),
        prompt.author,
        ctx.settings.git_author_name,
        ctx.settings.git_author_email,
    )
    run_stat = checkpoints.diffstat(workdir, start_commit)
    session_stat, diff = session_diff(session, workdir)
    if commit:
        checkpoint_copies.save(ctx, session, workdir, prompt.id)  # reachable from any host
    kept = f" {run_stat.summary()} kept in a checkpoint." if commit else ""

    if control.cancelled and not (control.reason == "shutdown" and finished):
        prompt.state, prompt.error = PromptState.CANCELLED, f"cancelled after {duration:.0f}s"
        end = ProgressEvent(EventKind.CANCELLED, f"Cancelled after {duration:.0f}s.{kept}")
    elif control.expired:
        limit = control.time_limit / 60
        prompt.state, prompt.error = PromptState.FAILED, f"hit the {limit:.0f}-minute time limit"
        end = ProgressEvent(EventKind.ERROR, f"Stopped at the {limit:.0f}-minute time limit.{kept}")
    elif failure is not None:
        prompt.state, prompt.error = PromptState.FAILED, failure
        end = ProgressEvent(EventKind.ERROR, f"{failure}{kept}")
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
        prompt.result = RunResult.from_dict(data)
        end = ProgressEvent(EventKind.RESULT, summary, data=data)
    try:
        metrics.record_run(ctx.redis, prompt.state.value, duration, prompt.result)
    except RedisError:
        log.warning("run figures of %s not recorded: Redis refused the write", prompt.id)
    if commit and session.shipped:
        push_update(ctx, session, prompt)
    return Outcome(replace(end, prompt_id=prompt.id), diff)


def _drive(
    ctx: JobContext, request: RunRequest, control: RunControl, prompt_id: str
) -> tuple[ProgressEvent | None, str | None]:
    """Run the agent, showing its steps; its RESULT event, or the failure for people."""
    stream = ProgressStream(ctx.redis, request.session.id)
    redact = Redactor(ctx.settings.secret_values())
    result: ProgressEvent | None = None
    try:
        for event in make_agent(ctx.settings).run(request, control):
            if event.kind is EventKind.RESULT:
                result = event
                continue
            if event.data.get("conversation"):  # the agent's own conversation, to resume
                ctx.service.sessions.update(
                    request.session.id, agent_conversation=event.data["conversation"]
                )
            _show(stream, replace(event, text=redact(event.text), prompt_id=prompt_id))
    except AgentError as error:
        return result, redact(str(error))
    return result, None


def _keep_leftovers(ctx: JobContext, workdir: Path) -> None:
    """Changes left by a run that was lost mid-way get their own checkpoint, so they are
    kept and never mixed into this prompt's commit."""
    checkpoints.checkpoint(
        workdir,
        "Work left by an interrupted run",
        Person("repobox", ctx.settings.git_author_name),
        ctx.settings.git_author_name,
        ctx.settings.git_author_email,
    )


def _show(stream: ProgressStream, event: ProgressEvent) -> None:
    """Progress is a side channel: a refused write drops one line, never the run."""
    try:
        stream.append(event)
    except RedisError:
        log.warning("progress of session %s dropped: Redis refused the write", stream.session_id)


def session_diff(session: Session, workdir: Path) -> tuple[DiffStat, str]:
    """The session's diff as stored in Redis, so `diff` and the log page need no workdir."""
    base = session.base_commit or checkpoints.head(workdir)
    stat = checkpoints.diffstat(workdir, base)
    patch = checkpoints.diff_text(workdir, base)
    truncated = len(patch) > PATCH_LIMIT
    payload = {"stat": stat.to_dict(), "patch": patch[:PATCH_LIMIT], "truncated": truncated}
    return stat, json.dumps(payload)


def _commit_subject(prompt: Prompt, control: RunControl, failure: str | None) -> str:
    if control.cancelled and control.reason != "shutdown":
        return f"{prompt.text}\n\n(run cancelled; partial work)"
    if control.expired or failure:
        return f"{prompt.text}\n\n(run stopped early; partial work)"
    return prompt.text
