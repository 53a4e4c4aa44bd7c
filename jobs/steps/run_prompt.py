"""One prompt run: the agent in the workdir, then a checkpoint commit and the result.

Whatever the agent did is committed when the run finishes, is cancelled or hits its time
limit, so nothing is lost and the next prompt starts from a clean tree. A run that fails
part-way (the agent crashed or exited non-zero, the checkpoint could not be written)
commits nothing: its edits are kept apart as `refs/repobox/partial/<prompt>`
(`bot.git.partial`), the reply says so, and the workdir goes back to its last checkpoint.
Two more cases commit nothing: a run whose lease was taken over (another process owns the
session now), and a run stopped because its host is shutting down, whose partial work is
shelved in a stash so the prompt can run again from the start after the restart.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from redis.exceptions import RedisError

from bot.agents.base import RunRequest
from bot.core.errors import GitError
from bot.core.redaction import Redactor
from bot.git import checkpoints
from bot.git.partial import Partial, set_aside
from bot.processes.control import RunControl
from bot.sessions import budgets, caps, metrics
from bot.sessions.events import EventKind, ProgressEvent
from bot.sessions.prompts import ENDINGS, Prompt
from bot.sessions.results import RunResult
from bot.sessions.session import Session
from jobs.steps import checkpoint_copies, places
from jobs.steps.agent_turn import checkpoint, drive, earlier_prompts, keep_leftovers, session_diff
from jobs.steps.attachments import prompt_attachments
from jobs.steps.autofix import check_and_fix, verdicts
from jobs.steps.checks import repo_egress_hosts, repo_mcp_servers
from jobs.steps.context import JobContext
from jobs.steps.ship import push_update

log = logging.getLogger(__name__)


def commit_or_keep_apart(
    ctx: JobContext,
    workdir: Path,
    prompt: Prompt,
    control: RunControl,
    failure: str | None,
    result: ProgressEvent | None,
) -> tuple[str | None, Partial | None, str | None]:
    """The run's checkpoint commit, or, for a run that failed part-way, its edits kept
    apart; and the failure, which a checkpoint that cannot be written becomes."""
    if failure is not None and not control.cancelled and not control.expired:
        return None, keep_apart(ctx, workdir, prompt), failure
    try:
        return checkpoint(ctx, workdir, prompt, control, failure, result), None, failure
    except GitError as error:  # e.g. the disk filled during `git add`
        if control.cancelled or control.expired:
            raise
        failure = f"The checkpoint could not be written ({error})."
        partial = keep_apart(ctx, workdir, prompt)
        if partial is None:
            failure += (
                " Its edits stay in the workdir: the next prompt first commits them apart, as "
                '"Work left by an interrupted run", then does its own work.'
            )
        return None, partial, failure


def failed(prompt: Prompt, said: str, partial: Partial | None) -> ProgressEvent:
    """The end of a failed run, saying where its partial edits went when they were kept."""
    prompt.error = said
    if partial is None:
        return ProgressEvent(EventKind.ERROR, said)
    return ProgressEvent(EventKind.ERROR, f"{said} {partial.note()}", data={"partial": partial.ref})


def keep_apart(ctx: JobContext, workdir: Path, prompt: Prompt) -> Partial | None:
    """A failed run's edits, set aside (`bot.git.partial`); if even that fails, they stay in
    the workdir, and the next run's `keep_leftovers` commits them apart from its own."""
    first_line = (prompt.text.strip().splitlines() or [""])[0][:72]
    message = (
        f"Partial edits of a failed run: {first_line}\n\nPrompt {prompt.id}; not on the branch.\n"
    )
    settings = ctx.settings
    try:
        return set_aside(
            workdir, prompt.id, message, settings.git_author_name, settings.git_author_email
        )
    except GitError:
        log.warning("partial edits of %s could not be set aside", prompt.id, exc_info=True)
        return None


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
    request = replace(
        request,
        egress_hosts=repo_egress_hosts(ctx, session, workdir),
        attachments=prompt_attachments(ctx, session, prompt, workdir),
        mcp_servers=repo_mcp_servers(session, workdir),
    )
    started = time.monotonic()
    result, failure = drive(ctx, request, control, prompt.id)
    duration = time.monotonic() - started
    finished = result is not None and failure is None

    if not held():
        raise LeaseLost
    if control.reason == "shutdown" and not finished:
        checkpoints.shelve(workdir, f"interrupted run of {prompt.id} (Repobox restarted)")
        raise HandBack
    commit, partial, failure = commit_or_keep_apart(ctx, workdir, prompt, control, failure, result)
    finished = finished and failure is None
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
        end = failed(prompt, failure, partial)  # nothing was committed
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
    record(ctx, session, prompt, ENDINGS[end.kind].value, duration, result)
    landed = bool(commit and session.shipped and push_update(ctx, session, prompt))
    passed = checked is not None and (checked.report is None or checked.report.passed)
    if landed and passed and end.kind is EventKind.RESULT:
        places.resolve_where_asked(ctx, session, prompt)  # the review thread it was asked in
    return Outcome(replace(end, prompt_id=prompt.id), diff)


def record(
    ctx: JobContext,
    session: Session,
    prompt: Prompt,
    outcome: str,
    duration: float,
    result: ProgressEvent | None,
) -> None:
    """The run's figures for /metrics, and what it spent against the caps (a failed or
    cancelled run spent too); neither ever fails the run."""
    try:
        metrics.record_run(ctx.redis, outcome, duration, prompt.result)
    except RedisError:
        log.warning("run figures of %s not recorded: Redis refused the write", prompt.id)
    spent = prompt.result or (RunResult.from_dict(result.data) if result else None)
    charge_spend(ctx, session, prompt, spent)


def charge_spend(
    ctx: JobContext, session: Session, prompt: Prompt, spent: RunResult | None
) -> None:
    """Count a run's (or a comparison's candidates') spend against the caps in force."""
    found = caps.current_sync(ctx.redis, ctx.settings.budgets)
    budgets.charge(
        ctx.redis, found.rules, session, prompt.author, prompt.id, spent, set_by=found.set_by
    )
