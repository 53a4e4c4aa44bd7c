"""Helpers shared by the fault tests: sessions driven through the real service, and hosts
killed the way a machine dies (everything at once, no clean-up)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.prompts import Prompt, PromptState
from bot.sessions.session import Person, Session, Thread
from jobs.steps.context import JobContext
from tests.conftest import WorkerProcess, wait_until

BOB = Person("U2", "Bob")


def new_session(
    ctx: JobContext, origin: Path, prompt: str | None = None, key: str = "t1"
) -> Session:
    started = ctx.service.run(
        lambda svc: svc.start(
            repo=str(origin),
            base=None,
            prompt=prompt,
            thread=Thread("cli", key),
            person=BOB,
            request_id=f"new-{key}",
        )
    )
    return started.session


def prompt_no(ctx: JobContext, session: Session, seq: int) -> Prompt:
    return ctx.service.prompts.history(session.id)[seq - 1]


def wait_prompt(
    ctx: JobContext, session: Session, seq: int, state: PromptState, timeout: float = 30
) -> Prompt:
    wait_until(
        lambda: prompt_no(ctx, session, seq).state is state,
        timeout=timeout,
        what=f"prompt {seq} to be {state.value}",
    )
    return prompt_no(ctx, session, seq)


def events(ctx: JobContext, session: Session, kind: EventKind) -> list[str]:
    return [e.text for e in ProgressStream(ctx.redis, session.id).read() if e.kind is kind]


def kill_machine(worker: WorkerProcess, agent_pidfile: Path | None = None) -> float:
    """SIGKILL a worker, its work horse and the agent (each its own process group), as a
    machine dying would; returns when it happened (monotonic)."""
    agent = int(agent_pidfile.read_text()) if agent_pidfile and agent_pidfile.exists() else None
    if agent is not None:
        try:  # the work horse first, so it cannot record anything when its agent dies
            horse = int(Path(f"/proc/{agent}/stat").read_text().rsplit(")", 1)[1].split()[1])
            os.killpg(os.getpgid(horse), signal.SIGKILL)
        except (OSError, ValueError):
            pass
    worker.kill()
    if agent is not None:
        try:
            os.killpg(agent, signal.SIGKILL)
        except OSError:
            pass
    return time.monotonic()
