"""Draining a session's queue: one item at a time, under the session's lock and heartbeat.

A drain job that finds the lock taken exits at once: the holder re-checks the queue after
releasing it, so a prompt that arrives at any moment is always picked up by someone.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from bot import keys
from bot.agents import RunControl
from bot.errors import Conflict, UpstreamError, UserError
from bot.progress import EventKind, ProgressStream
from bot.prompts import Action, Prompt, PromptState
from bot.relay import Relay
from bot.runlock import Heartbeat, SessionLock
from bot.sessions import SessionState
from jobs.run_prompt import run_prompt
from jobs.runtime import JobContext
from jobs.ship import ship

log = logging.getLogger(__name__)

CLOSED = frozenset({SessionState.ARCHIVED, SessionState.FAILED})


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
            lock.release()
        if not service.prompts.has_waiting(session_id):
            return


def _drain_locked(ctx: JobContext, session_id: str, lock: SessionLock) -> None:
    control_box: list[RunControl] = []
    heartbeat = Heartbeat(
        lock,
        ctx.settings.heartbeat_interval,
        on_cancel=lambda reason: control_box[-1].cancel(reason) if control_box else None,
    )
    heartbeat.start()
    try:
        with Relay(ctx.settings, ctx.redis, session_id):
            while (prompt := ctx.service.prompts.take(session_id)) is not None:
                ctx.redis.sadd(keys.active_runs(), session_id)
                ctx.redis.delete(keys.cancel(session_id))  # cancels meant for earlier prompts
                control = RunControl(ctx.settings.run_timeout)
                control_box.append(control)
                heartbeat.watch(prompt.id)
                execute(ctx, prompt, control)
                heartbeat.watch(None)
    finally:
        heartbeat.stop()
        ctx.redis.srem(keys.active_runs(), session_id)


def execute(ctx: JobContext, prompt: Prompt, control: RunControl) -> None:
    """Run one queue item; whatever happens, record it and leave the session settled."""
    sessions = ctx.service.sessions
    stream = ProgressStream(ctx.redis, prompt.session_id)
    try:
        sessions.transition(prompt.session_id, SessionState.RUNNING)
    except Conflict:
        prompt.state = PromptState.CANCELLED
        prompt.error = "the session was closed before it ran"
        ctx.service.prompts.finish(prompt)
        return
    stream.emit(EventKind.STATE, SessionState.RUNNING.value, prompt.id)
    verb = "shipping" if prompt.action is Action.SHIP else "working on"
    stream.emit(
        EventKind.STARTED,
        f"{verb} it for {prompt.author.name}",
        prompt.id,
        action=prompt.action.value,
    )
    try:
        session = sessions.get(prompt.session_id)
        if session.workdir is None or not Path(session.workdir).exists():
            raise UserError(
                "This session's workdir is gone.", hint="Start a new session with `new <repo>`."
            )
        if prompt.action is Action.SHIP:
            ship(ctx, session, prompt)
        else:
            run_prompt(ctx, session, prompt, control)
    except UserError as error:
        prompt.state, prompt.error = PromptState.FAILED, str(error)
        stream.emit(EventKind.ERROR, str(error), prompt.id)
    except UpstreamError as error:  # a host that kept failing: said plainly, worth retrying
        prompt.state, prompt.error = PromptState.FAILED, f"{error} Try again in a moment."
        stream.emit(EventKind.ERROR, prompt.error, prompt.id)
    except Exception:
        ref = uuid.uuid4().hex[:8]
        log.exception("run %s of session %s crashed (ref %s)", prompt.id, prompt.session_id, ref)
        prompt.state = PromptState.FAILED
        prompt.error = (
            f"Something went wrong on our side (ref {ref}); the workdir keeps what was done."
        )
        stream.emit(EventKind.ERROR, prompt.error, prompt.id, ref=ref)
    finally:
        ctx.service.prompts.finish(prompt)
        settle(ctx, prompt.session_id, prompt.id)


def settle(ctx: JobContext, session_id: str, prompt_id: str | None) -> None:
    """Back to ready (or pushed) after a run, unless the session was archived meanwhile."""
    sessions = ctx.service.sessions
    session = sessions.get(session_id)
    target = session.settled_state
    try:
        sessions.transition(session_id, target, allowed_from=frozenset({SessionState.RUNNING}))
    except Conflict:
        return
    ProgressStream(ctx.redis, session_id).emit(EventKind.STATE, target.value, prompt_id)
