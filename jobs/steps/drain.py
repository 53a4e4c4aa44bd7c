"""Draining a session's queue: one item at a time, under the session's lease and heartbeat.

A drain job that finds the lock taken exits at once: the holder re-checks the queue after
releasing it, so a prompt that arrives at any moment is always picked up by someone.
Every change of a run's state goes through `RunState`: atomic, and fenced by the lease.
A worker asked to stop marks its job (`keys.job_stop`): the drain then takes no further
prompt, and a run stopped by the shutdown is handed back to the head of the queue.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from pathlib import Path

from redis.exceptions import RedisError
from rq import get_current_job

from bot.core import keys
from bot.core.errors import UpstreamError, UserError
from bot.core.health import persist
from bot.core.logs import crash_reference
from bot.processes.control import RunControl
from bot.progress.relays import Relays
from bot.sessions.events import EventKind, ProgressEvent, ProgressStream
from bot.sessions.prompts import Action, Prompt
from bot.sessions.runlock import Heartbeat, SessionLock
from bot.sessions.runstate import RunState, Taken
from bot.sessions.session import SessionState
from bot.surfaces.registry import sink_for
from jobs.steps.compare import run_comparison
from jobs.steps.context import JobContext
from jobs.steps.pick import pick
from jobs.steps.run_prompt import HandBack, LeaseLost, run_prompt
from jobs.steps.ship import ship
from jobs.steps.undo import undo

log = logging.getLogger(__name__)

CLOSED = frozenset({SessionState.ARCHIVED, SessionState.FAILED})
BOOKKEEPING_PATIENCE = 90.0  # how long a finished run waits for Redis to take its outcome
VERBS = {
    Action.SHIP: "shipping it",
    Action.UNDO: "undoing the last change",
    Action.COMPARE: "comparing candidates",
    Action.PICK: "adopting the picked candidate",
}
RESUMES = (
    "Repobox is restarting, so this run was stopped before it finished. It will run again "
    "from the start as soon as Repobox is back; there is no need to send it again."
)


def drain(ctx: JobContext, session_id: str) -> None:
    service = ctx.service
    while True:
        session = service.sessions.get(session_id)
        if session.state is SessionState.INITIALIZING:
            return  # init kicks the queue when the workdir is ready
        if session.state in CLOSED:
            service.prompts.drop_waiting(session_id, f"the session is {session.state.value}")
            return
        if session.host and session.host != ctx.settings.host:
            service.kick(session, f"{session_id}-to-{session.host}-{uuid.uuid4().hex[:6]}")
            return
        lock = SessionLock(ctx.redis, session_id, timeout=ctx.settings.heartbeat_timeout)
        if not lock.acquire():
            return
        try:
            _drain_locked(ctx, session_id, lock)
        finally:
            with contextlib.suppress(RedisError):
                lock.release()
        if stopping(ctx) or not service.prompts.has_waiting(session_id):
            return


def stopping(ctx: JobContext) -> bool:
    """Whether this job's worker was asked to stop (take no further prompt)."""
    job = get_current_job()
    return job is not None and bool(ctx.redis.exists(keys.job_stop(job.id)))


def _drain_locked(ctx: JobContext, session_id: str, lock: SessionLock) -> None:
    control_box: list[RunControl] = []
    heartbeat = Heartbeat(
        lock,
        ctx.settings.heartbeat_interval,
        on_cancel=lambda reason: control_box[-1].cancel(reason) if control_box else None,
    )
    state = RunState(ctx.redis, session_id, lock.token)
    heartbeat.start()
    try:
        with Relays(
            ctx.settings, ctx.redis, session_id, sink_for, followup=ctx.relay_later
        ) as relays:
            while not stopping(ctx):
                taken = state.take("the session was closed before it ran")
                if taken.outcome is Taken.FENCED:
                    log.warning("session %s: lease taken over; this drain stops", session_id)
                    return
                if taken.outcome is Taken.EMPTY or taken.prompt_id is None:
                    return
                if taken.outcome is Taken.CLOSED:
                    continue
                prompt = ctx.service.prompts.get(taken.prompt_id)
                control = RunControl(ctx.settings.run_timeout)
                control_box.append(control)
                heartbeat.watch(prompt.id)
                relays.refresh()  # a place bound since (its ship) shows the prompts asked there
                execute(ctx, state, prompt, control)
                heartbeat.watch(None)
                if control.reason in ("shutdown", "lost its heartbeat"):
                    return
    finally:
        heartbeat.stop()


def execute(ctx: JobContext, state: RunState, prompt: Prompt, control: RunControl) -> None:
    """Run one queue item; whatever happens, record it and leave the session settled.

    The item ends in the state its ending event says (`RunState.finish`): a step sets only
    what it has to say (error, summary, result) and returns that event."""
    stream = ProgressStream(ctx.redis, prompt.session_id)
    stream.emit(EventKind.STATE, SessionState.RUNNING.value, prompt.id)
    verb = VERBS.get(prompt.action, "working on it")
    stream.emit(
        EventKind.STARTED,
        f"{verb} for {prompt.author.name}",
        prompt.id,
        action=prompt.action.value,
        **({"candidates": prompt.candidates} if prompt.action is Action.COMPARE else {}),
    )
    diff: str | None = None
    try:
        session = ctx.service.sessions.get(prompt.session_id)
        if session.workdir is None or not Path(session.workdir).exists():
            raise UserError(
                "This session's workdir is gone.", hint="Start a new session with `new <repo>`."
            )
        if prompt.action is Action.SHIP:
            end = ship(ctx, session, prompt)
        elif prompt.action is Action.UNDO:
            end, diff = undo(ctx, session, prompt)
        elif prompt.action is Action.PICK:
            end, diff = pick(ctx, session, prompt)
        else:
            run = run_comparison if prompt.action is Action.COMPARE else run_prompt
            outcome = run(ctx, session, prompt, control, state.held)
            end, diff = outcome.event, outcome.diff
    except LeaseLost:
        log.warning("run %s: its lease was taken over; nothing recorded", prompt.id)
        return
    except HandBack:
        persist(lambda: state.hand_back(prompt, RESUMES), patience=10, what="hand back")
        return
    except UserError as error:
        prompt.error = str(error)
        end = ProgressEvent(EventKind.ERROR, str(error))
    except UpstreamError as error:  # a host that kept failing: said plainly, worth retrying
        prompt.error = f"{error} Try again in a moment."
        end = ProgressEvent(EventKind.ERROR, prompt.error)
    except Exception:
        ref = crash_reference(log, f"run {prompt.id} of session {prompt.session_id} crashed")
        prompt.error = (
            f"Something went wrong on our side (ref {ref}); the workdir keeps what was done."
        )
        end = ProgressEvent(EventKind.ERROR, prompt.error, data={"ref": ref})
    end = ProgressEvent(end.kind, end.text, prompt.id, end.data)
    recorded = persist(
        lambda: state.finish(prompt, end, diff), patience=BOOKKEEPING_PATIENCE, what="outcome"
    )
    if not recorded:
        log.warning("run %s: its lease was taken over before the outcome; not recorded", prompt.id)
