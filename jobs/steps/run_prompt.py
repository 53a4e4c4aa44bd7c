"""One prompt run: the agent in the workdir, then a checkpoint commit and the result.

Whatever the agent did is committed even when the run fails, is cancelled or hits its
time limit, so nothing is lost and the next prompt starts from a clean tree. Two cases
commit nothing: a run whose lease was taken over (another process owns the session now),
and a run stopped because its host is shutting down, whose partial work is shelved in a
stash so the prompt can run again from the start after the restart.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from redis.exceptions import RedisError

from bot.agents.base import RunRequest
from bot.core.redaction import Redactor
from bot.git import checkpoints
from bot.processes.control import RunControl
from bot.sessions import metrics
from bot.sessions.events import EventKind, ProgressEvent
from bot.sessions.prompts import ENDINGS, Prompt
from bot.sessions.results import RunResult
from bot.sessions.session import Session
from jobs.steps import checkpoint_copies
from jobs.steps.agent_turn import checkpoint, drive, earlier_prompts, keep_leftovers, session_diff
from jobs.steps.autofix import check_and_fix, verdicts
from jobs.steps.context import JobContext
from jobs.steps.ship import push_update

log = logging.getLogger(__name__)


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
    keep_leftovers(ctx, workdir)
    start_commit = checkpoints.head(workdir)
    history = earlier_prompts(ctx, session, prompt)
    request = RunRequest(prompt.text, workdir, session, prompt.author, history, prompt.origin)
    started = time.monotonic()
    result, failure = drive(ctx, request, control, prompt.id)
    duration = time.monotonic() - started
    finished = result is not None and failure is None

    if not held():
        raise LeaseLost
    if control.reason == "shutdown" and not finished:
        checkpoints.shelve(workdir, f"interrupted run of {prompt.id} (Repobox restarted)")
        raise HandBack
    commit = checkpoint(ctx, workdir, prompt, control, failure, result)
    checked, result = (
        check_and_fix(ctx, session, prompt, control, held, commit, start_commit, result)
        if commit and finished and not control.should_stop()
        else (None, result)
    )
    commit = checkpoints.head(workdir) if commit else None  # autofix rounds commit too
    run_stat = checkpoints.diffstat(workdir, start_commit)
    session_stat, diff = session_diff(session, workdir)
    if commit:
        checkpoint_copies.save(ctx, session, workdir, prompt.id)  # reachable from any host
    kept = f" {run_stat.summary()} kept in a checkpoint." if commit else ""

    if control.cancelled and not (control.reason == "shutdown" and finished):
        prompt.error = f"cancelled after {duration:.0f}s"
        end = ProgressEvent(EventKind.CANCELLED, f"Cancelled after {duration:.0f}s.{kept}")
    elif control.expired:
        limit = control.time_limit / 60
        prompt.error = f"hit the {limit:.0f}-minute time limit"
        end = ProgressEvent(EventKind.ERROR, f"Stopped at the {limit:.0f}-minute time limit.{kept}")
    elif failure is not None:
        prompt.error = failure
        end = ProgressEvent(EventKind.ERROR, f"{failure}{kept}")
    else:
        summary = redact(result.text if result else "") or "Done."
        prompt.summary = summary
        data: dict[str, object] = dict(result.data) if result else {}
        summary = verdicts(summary, checked, data)
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
        metrics.record_run(ctx.redis, ENDINGS[end.kind].value, duration, prompt.result)
    except RedisError:
        log.warning("run figures of %s not recorded: Redis refused the write", prompt.id)
    if commit and session.shipped:
        push_update(ctx, session, prompt)
    return Outcome(replace(end, prompt_id=prompt.id), diff)
