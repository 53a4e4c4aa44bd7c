"""`pick <n>`: the session adopts candidate n's checkpoint; the other candidates go.

It runs as a queue item after the comparison, so it sees the comparison's outcome. The
work branch moves forward to the candidate's commit (a fast-forward: the candidate started
from the session's checkpoint), and from then on the session goes on as after any prompt:
more prompts, `undo`, `ship it`.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from redis.exceptions import RedisError

from bot.compare import record as records
from bot.compare.outcome import Comparison
from bot.compare.picking import check_pickable
from bot.core.errors import Conflict, UserError
from bot.git import checkpoints
from bot.sessions import metrics
from bot.sessions.events import EventKind, ProgressEvent
from bot.sessions.prompts import Prompt
from bot.sessions.results import RunResult
from bot.sessions.session import Session
from jobs.steps import checkpoint_copies
from jobs.steps.agent_turn import session_diff
from jobs.steps.compare import discard
from jobs.steps.context import JobContext
from jobs.steps.ship import push_update

log = logging.getLogger(__name__)


def pick(ctx: JobContext, session: Session, prompt: Prompt) -> tuple[ProgressEvent, str]:
    """The event that ends the pick and the session's diff after it."""
    number = prompt.pick or 0
    history = ctx.service.prompts.history(session.id)
    compared = check_pickable(history[: _index(history, prompt)], number)
    comparison = Comparison.of(compared.result)
    record = records.load(ctx.redis, session.id)
    if comparison is None or record is None or record.prompt_id != compared.id:
        raise Conflict(
            "That comparison's candidates are gone.", hint="Run it again with `compare`."
        )
    chosen, fork = comparison.candidate(number), record.fork(number)
    if chosen is None or fork is None or fork.commit is None:
        raise Conflict(f"Candidate {number} changed nothing to adopt.")
    workdir = Path(session.workdir or "")
    if not Path(fork.workdir).exists():
        discard(ctx, session)
        raise UserError(
            "That comparison's candidates are gone: the machine that held them was lost.",
            hint="Run the comparison again with `compare`.",
        )
    if checkpoints.head(workdir) != record.base_commit:
        discard(ctx, session)
        raise UserError(
            "The session moved on since that comparison, so its candidates no longer apply; "
            "they were discarded.",
            hint="Run the comparison again with `compare`.",
        )
    ctx.workdirs.adopt(workdir, Path(fork.workdir), fork.commit)
    discard(ctx, session)
    checkpoint_copies.save(ctx, session, workdir, prompt.id)
    stat, diff = session_diff(session, workdir)
    picked = replace(comparison, picked=number, picked_by=prompt.author.name)
    compared.result = replace(
        compared.result or RunResult(), extra={"comparison": picked.to_dict()}
    )
    compared.summary = chosen.summary  # what the next prompts' agent reads about it
    ctx.service.prompts.revise(compared)
    ctx.service.sessions.update(session.id, agent_conversation=None)  # it never saw the pick
    try:
        metrics.record_pick(ctx.redis, chosen.label)
    except RedisError:
        log.warning("pick of %s not counted: Redis refused the write", prompt.id)
    if session.shipped:
        push_update(ctx, session, prompt)
    files = chosen.result.files if chosen.result is not None else ()
    prompt.result = RunResult(
        files=files,
        diffstat=chosen.result.diffstat if chosen.result is not None else "",
        session_diffstat=stat.summary(),
        commit=fork.commit,
        extra={"picked": number, "label": chosen.label},
    )
    text = (
        f"Picked candidate {number} ({chosen.label}): {prompt.result.diffstat or 'its changes'} "
        "are now on the work branch; the other candidates were discarded."
    )
    prompt.summary = text
    return ProgressEvent(EventKind.RESULT, text, prompt.id, prompt.result.to_dict()), diff


def _index(history: list[Prompt], prompt: Prompt) -> int:
    """Where `prompt` is in the history: a pick adopts from the comparison before it."""
    return next((i for i, p in enumerate(history) if p.id == prompt.id), len(history))
