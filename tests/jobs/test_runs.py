"""Runs under pressure: queued prompts, cancel, a worker killed mid-run, duplicate requests."""

from __future__ import annotations

import itertools
import os
import signal
from collections.abc import Callable
from pathlib import Path

from rq import Queue
from rq.serializers import JSONSerializer

from bot.core.dispatch import RUN_QUEUE, host_queue
from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.prompts import PromptState, Submitted
from bot.sessions.session import Person, Session, SessionState, Thread
from jobs.session_jobs import drain_session
from jobs.steps.context import JobContext
from jobs.worker.watchdog import LOST_RUN
from tests.conftest import MakeRepo, WorkerProcess, run_jobs, wait_until

BOB = Person("U2", "Bob")


def new_session(ctx: JobContext, origin: Path, prompt: str | None = None) -> Session:
    started = ctx.service.run(
        lambda svc: svc.start(
            repo=str(origin),
            base=None,
            prompt=prompt,
            thread=Thread("cli", "t1"),
            person=BOB,
            request_id="new-1",
        )
    )
    return started.session


def prompt_state(ctx: JobContext, session: Session, seq: int) -> PromptState:
    return ctx.service.prompts.history(session.id)[seq - 1].state


def process_group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_prompts_sent_during_a_run_run_afterwards_in_order_one_at_a_time(
    ctx: JobContext, make_repo: MakeRepo, start_worker: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    origin = make_repo()
    pidfile = tmp_path / "first.pid"
    session = new_session(ctx, origin, f"pidfile {pidfile}\nsleep 1.5\nappend order.txt: 0")
    start_worker()
    start_worker()  # a second worker must not run the same session's prompts in parallel
    wait_until(pidfile.exists, what="the first run to start")

    def submit(n: int) -> Submitted:
        text = f"append order.txt: {n}"
        return ctx.service.run(lambda svc: svc.submit(session, text, BOB, request_id=f"p{n}"))

    submitted = [submit(n) for n in (1, 2, 3)]
    assert [s.position for s in submitted] == [2, 3, 4]
    wait_until(
        lambda: prompt_state(ctx, session, 4) is PromptState.DONE, timeout=30, what="all prompts"
    )

    workdir = Path(ctx.service.sessions.get(session.id).workdir or "")
    assert (workdir / "order.txt").read_text() == "0\n1\n2\n3\n"
    history = ctx.service.prompts.history(session.id)
    for earlier, later in itertools.pairwise(history):
        assert earlier.finished_at is not None and later.started_at is not None
        assert later.started_at >= earlier.finished_at
    queued = [e for e in ProgressStream(ctx.redis, session.id).read() if e.kind is EventKind.QUEUED]
    assert [e.text for e in queued] == ["waiting: 1 ahead", "waiting: 2 ahead", "waiting: 3 ahead"]


def test_cancel_kills_the_agents_whole_process_group_and_keeps_the_session(
    ctx: JobContext, make_repo: MakeRepo, start_worker: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    origin = make_repo()
    pidfile = tmp_path / "agent.pid"
    session = new_session(
        ctx, origin, f"write partial.txt: kept\npidfile {pidfile}\nspawn\nsleep 60"
    )
    waiting = ctx.service.run(
        lambda svc: svc.submit(session, "write never.txt: no", BOB, request_id="later")
    )
    start_worker()
    wait_until(pidfile.exists, what="the agent to start")
    pgid = int(pidfile.read_text())
    assert process_group_alive(pgid)

    result = ctx.service.run(lambda svc: svc.cancel(ctx.service.sessions.get(session.id), BOB))
    assert result.running is not None and [p.id for p in result.dropped] == [waiting.prompt.id]

    wait_until(lambda: prompt_state(ctx, session, 1) is PromptState.CANCELLED, what="the cancel")
    wait_until(lambda: not process_group_alive(pgid), timeout=10, what="the process group to die")
    events = ProgressStream(ctx.redis, session.id).read()
    cancelled = [e.text for e in events if e.kind is EventKind.CANCELLED]
    assert cancelled[0] == "cancelled by Bob before it ran"
    assert (
        cancelled[1].startswith("Cancelled after ")
        and "1 file changed (+1 −0) kept" in cancelled[1]
    )
    wait_until(
        lambda: ctx.service.sessions.get(session.id).state is SessionState.READY, what="ready"
    )
    assert prompt_state(ctx, session, 2) is PromptState.CANCELLED


def test_worker_killed_mid_run_fails_the_run_clearly_and_the_session_goes_on(
    ctx: JobContext, make_repo: MakeRepo, start_worker: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    origin = make_repo()
    pidfile = tmp_path / "agent.pid"
    session = new_session(ctx, origin, f"pidfile {pidfile}\nsleep 60")
    doomed = start_worker()
    wait_until(pidfile.exists, what="the agent to start")
    agent = int(pidfile.read_text())  # the agent's group: its guardian and everything below
    horse = int(Path(f"/proc/{agent}/stat").read_text().rsplit(")", 1)[1].split()[1])
    # A machine dying takes everything: RQ's work horse (its own process group), the
    # worker, and the agent (also its own group).
    os.killpg(os.getpgid(horse), signal.SIGKILL)
    doomed.kill()
    os.killpg(agent, signal.SIGKILL)

    start_worker()  # another worker's watchdog notices the silent heartbeat

    def errors() -> list[str]:
        events = ProgressStream(ctx.redis, session.id).read()
        return [e.text for e in events if e.kind is EventKind.ERROR]

    wait_until(errors, timeout=20, what="the lost run to be reported")
    assert errors() == [LOST_RUN]
    assert prompt_state(ctx, session, 1) is PromptState.FAILED
    wait_until(
        lambda: ctx.service.sessions.get(session.id).state is SessionState.READY, what="ready"
    )

    ctx.service.run(
        lambda svc: svc.submit(session, "write after.txt: still works", BOB, request_id="after")
    )
    wait_until(
        lambda: prompt_state(ctx, session, 2) is PromptState.DONE, timeout=20, what="next prompt"
    )
    workdir = Path(ctx.service.sessions.get(session.id).workdir or "")
    assert (workdir / "after.txt").read_text() == "still works\n"


def test_the_same_request_twice_creates_one_prompt_and_one_job(
    ctx: JobContext, make_repo: MakeRepo
) -> None:
    origin = make_repo()
    session = new_session(ctx, origin)
    run_jobs(ctx)
    first = ctx.service.run(
        lambda svc: svc.submit(session, "write a.txt: 1", BOB, request_id="slack-event-Ev123")
    )
    again = ctx.service.run(
        lambda svc: svc.submit(session, "write a.txt: 1", BOB, request_id="slack-event-Ev123")
    )
    assert first.created and not again.created
    assert again.prompt.id == first.prompt.id
    queue = Queue(host_queue(ctx.settings.host), connection=ctx.redis, serializer=JSONSerializer)
    assert queue.job_ids == [f"drain-{first.prompt.id}"]

    def enqueue() -> bool:
        return ctx.service.dispatch.enqueue(
            drain_session, job_id="same", queue=RUN_QUEUE, session_id=session.id
        )

    assert enqueue()
    assert not enqueue()
    assert Queue(RUN_QUEUE, connection=ctx.redis, serializer=JSONSerializer).job_ids == ["same"]

    replay = ctx.service.run(
        lambda svc: svc.start(
            repo=str(origin),
            base=None,
            prompt=None,
            thread=Thread("cli", "t1"),
            person=BOB,
            request_id="new-1",
        )
    )
    assert replay.session.id == session.id
    run_jobs(ctx)
    assert len(ctx.service.prompts.history(session.id)) == 1
