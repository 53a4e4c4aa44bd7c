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

from bot.agents.base import RunRequest
from bot.agents.registry import make_agent
from bot.checks.results import CheckReport, failures_prompt
from bot.compare.outcome import adopted
from bot.core.config import Settings
from bot.core.errors import AgentError
from bot.core.redaction import Redactor
from bot.git import checkpoints
from bot.git.checkpoints import DiffStat
from bot.git.commit_message import commit_message
from bot.processes.control import RunControl
from bot.sessions import metrics
from bot.sessions.events import EventKind, ProgressEvent, ProgressStream
from bot.sessions.prompts import ENDINGS, Prompt, PromptState
from bot.sessions.results import RunResult
from bot.sessions.session import Person, Session
from jobs.steps import checkpoint_copies
from jobs.steps.checks import Checked, run_checks
from jobs.steps.context import JobContext
from jobs.steps.ship import push_update

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


def drive(
    ctx: JobContext,
    request: RunRequest,
    control: RunControl,
    prompt_id: str,
    *,
    agent: Settings | None = None,
    stream: ProgressStream | None = None,
) -> tuple[ProgressEvent | None, str | None]:
    """Run the agent, showing its steps; its RESULT event, or the failure for people.

    A comparison's candidate passes its own `agent` settings and a `stream` that tags its
    events; it keeps no conversation, which belongs to the session's own agent."""
    remember = agent is None
    stream = stream or ProgressStream(ctx.redis, request.session.id)
    redact = Redactor(ctx.settings.secret_values())
    result: ProgressEvent | None = None
    try:
        for event in make_agent(agent or ctx.settings).run(request, control):
            if event.kind is EventKind.RESULT:
                result = event
                continue
            if remember and event.data.get("conversation"):  # the agent's own, to resume
                ctx.service.sessions.update(
                    request.session.id, agent_conversation=event.data["conversation"]
                )
            show(stream, replace(event, text=redact(event.text), prompt_id=prompt_id))
    except AgentError as error:
        return result, redact(str(error))
    return result, None


def earlier_prompts(ctx: JobContext, session: Session, prompt: Prompt) -> tuple[Prompt, ...]:
    """The session's finished work before `prompt`, for the agent's context: the prompts
    that ran and the comparisons someone picked from (with the pick's summary)."""
    return tuple(
        p
        for p in ctx.service.prompts.history(session.id)
        if p.id != prompt.id and p.state is PromptState.DONE and adopted(p)
    )


def keep_leftovers(ctx: JobContext, workdir: Path) -> None:
    """Changes left by a run that was lost mid-way get their own checkpoint, so they are
    kept and never mixed into this prompt's commit."""
    checkpoints.checkpoint(
        workdir,
        "Work left by an interrupted run",
        Person("repobox", ctx.settings.git_author_name),
        ctx.settings.git_author_name,
        ctx.settings.git_author_email,
    )


def show(stream: ProgressStream, event: ProgressEvent) -> None:
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


def checkpoint(
    ctx: JobContext,
    workdir: Path,
    prompt: Prompt,
    control: RunControl,
    failure: str | None,
    result: ProgressEvent | None,
) -> str | None:
    """A finished run's commit is written from the run (`bot.git.commit_message`); a
    stopped one keeps the prompt and says it is partial."""
    message = None
    if failure is None and not control.cancelled and not control.expired:
        message = commit_message(
            summary=result.text if result else None,
            prompt=prompt.text,
            changes=checkpoints.staged_diffstat(workdir),
            author=prompt.author,
        )
    return checkpoints.checkpoint(
        workdir,
        _commit_subject(prompt, control, failure),
        prompt.author,
        ctx.settings.git_author_name,
        ctx.settings.git_author_email,
        message=message,
    )


def check_and_fix(
    ctx: JobContext,
    session: Session,
    prompt: Prompt,
    control: RunControl,
    held: Callable[[], bool],
    commit: str,
    start_commit: str,
    result: ProgressEvent | None,
    *,
    agent: Settings | None = None,
    stream: ProgressStream | None = None,
) -> tuple[Checked | None, ProgressEvent | None]:
    """The checks on the new checkpoint, then the autofix rounds the config allows
    (in `session.workdir`; a candidate's session names its own)."""
    workdir = Path(session.workdir or "")
    changed = _changed(workdir, start_commit)
    checked = run_checks(
        ctx, session, prompt.id, workdir, control, commit=commit, changed=changed, stream=stream
    )
    if checked.report is not None and not checked.report.passed:
        checked, result = _autofix(
            ctx, session, prompt, control, held, checked, start_commit, result, agent, stream
        )
    return checked, result


def verdicts(summary: str, checked: Checked | None, data: dict[str, object]) -> str:
    """The reply ends with one verdict per check (or what is wrong with the config); the
    result records the report."""
    if checked is not None and checked.report is not None:
        data["checks"] = stored(checked.report)
        summary += "\n\n" + "\n".join(checked.report.verdicts())
    if checked is not None and checked.problem:
        summary += "\n\n⚠️ " + checked.problem
    return summary


def _changed(workdir: Path, since: str) -> list[str]:
    return [f.path for f in checkpoints.diffstat(workdir, since).files]


def _autofix(
    ctx: JobContext,
    session: Session,
    prompt: Prompt,
    control: RunControl,
    held: Callable[[], bool],
    checked: Checked,
    start_commit: str,
    result: ProgressEvent | None,
    agent: Settings | None = None,
    stream: ProgressStream | None = None,
) -> tuple[Checked, ProgressEvent | None]:
    """`autofix: N`: hand failing required checks back to the agent, up to N rounds, each
    a visible step; the run's result is the last round's."""
    stream = stream or ProgressStream(ctx.redis, session.id)
    rounds = checked.config.autofix
    workdir = Path(session.workdir or "")
    for number in range(1, rounds + 1):
        report = checked.report
        if report is None or report.passed or control.should_stop() or not held():
            break
        failing = ", ".join(f"`{r.name}`" for r in report.blocking)
        show(
            stream,
            ProgressEvent(
                EventKind.STEP,
                f"🔁 autofix round {number}/{rounds}: handing {failing} back to the agent",
                prompt.id,
                {"autofix": number},
            ),
        )
        fix = replace(prompt, text=failures_prompt(report))
        request = RunRequest(fix.text, workdir, session, prompt.author, (), prompt.origin)
        fixed, failure = drive(ctx, request, control, prompt.id, agent=agent, stream=stream)
        if failure is not None or fixed is None:
            break
        result = fixed
        commit = checkpoint(ctx, workdir, fix, control, None, fixed)
        if not commit:
            break
        checked = run_checks(
            ctx, session, prompt.id, workdir, control, commit=commit,
            changed=_changed(workdir, start_commit), config=checked.config, stream=stream,
        )  # fmt: skip
    return checked, result


def stored(report: CheckReport) -> dict[str, Any]:
    """The report as a result keeps it: the whole outputs stay on the STEP events."""
    data = report.to_dict()
    for item in [*data["results"], data["setup"]]:
        if item is not None:
            item["output"] = ""
    return data


def _commit_subject(prompt: Prompt, control: RunControl, failure: str | None) -> str:
    if control.cancelled and control.reason != "shutdown":
        return f"{prompt.text}\n\n(run cancelled; partial work)"
    if control.expired or failure:
        return f"{prompt.text}\n\n(run stopped early; partial work)"
    return prompt.text
