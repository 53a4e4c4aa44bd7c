"""One turn of the agent in a workdir: drive it while its steps show in the thread, then
commit what it did as a checkpoint. A prompt's run, a comparison's candidate and an
autofix round each take turns like this.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

from redis.exceptions import RedisError

from bot.agents.base import RunRequest
from bot.agents.command_attempt import SUMMARY_FROM
from bot.agents.registry import make_agent
from bot.commands.model_choice import run_settings
from bot.compare.outcome import adopted
from bot.core.config import Settings
from bot.core.errors import AgentError
from bot.core.redaction import Redactor
from bot.git import checkpoints
from bot.git.checkpoints import DiffStat
from bot.git.commit_message import commit_message
from bot.processes.control import RunControl
from bot.sessions.events import EventKind, ProgressEvent, ProgressStream
from bot.sessions.prompts import Prompt, PromptState
from bot.sessions.session import Person, Session
from jobs.steps.context import JobContext

log = logging.getLogger(__name__)

PATCH_LIMIT = 400_000


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
        chosen = agent or run_settings(ctx.settings, ctx.service.sessions.get(request.session.id))
        for event in make_agent(chosen).run(request, control):
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
            summary=written_summary(result),
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


def written_summary(result: ProgressEvent | None) -> str | None:
    """What the agent said it did, if it said so (a `command` agent's last output lines
    are no summary: a subject taken from them read like `Return "hello " + name`)."""
    if result is None or result.data.get(SUMMARY_FROM) == "output":
        return None
    return result.text


def _commit_subject(prompt: Prompt, control: RunControl, failure: str | None) -> str:
    if control.cancelled and control.reason != "shutdown":
        return f"{prompt.text}\n\n(run cancelled; partial work)"
    if control.expired or failure:
        return f"{prompt.text}\n\n(run stopped early; partial work)"
    return prompt.text
