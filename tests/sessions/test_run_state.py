"""A run's state in Redis: the fenced lease, atomic transitions, and the reconciler."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rq import Queue
from rq.job import Job
from rq.serializers import JSONSerializer

from bot.commands.blocking import BlockingService
from bot.core import keys
from bot.core.config import Settings
from bot.core.errors import UserError
from bot.core.redisio import connect
from bot.core.supervisor import Child, Supervisor
from bot.sessions.events import EventKind, ProgressEvent, ProgressStream
from bot.sessions.prompts import PromptState
from bot.sessions.runlock import SessionLock
from bot.sessions.runstate import RunState, Taken
from bot.sessions.session import Person, Session, SessionState, Thread
from handlers.cli.redis_trouble import wait_for_redis
from jobs.session_jobs import SESSION_JOBS
from jobs.steps.context import JobContext
from jobs.worker import watchdog
from tests.conftest import ROOT, MakeRepo, run_jobs, wait_until

BOB = Person("U2", "Bob")


def ready_session(ctx: JobContext, make_repo: MakeRepo) -> Session:
    session = ctx.service.run(
        lambda svc: svc.start(
            repo=str(make_repo()),
            base=None,
            prompt=None,
            thread=Thread("cli", "t1"),
            person=BOB,
            request_id="new-1",
        )
    ).session
    run_jobs(ctx)
    assert ctx.service.sessions.get(session.id).state is SessionState.READY
    return session


def events(ctx: JobContext, session: Session) -> list[tuple[str, str]]:
    return [(e.kind.value, e.text) for e in ProgressStream(ctx.redis, session.id).read()]


def test_a_run_whose_lease_was_taken_over_changes_nothing(
    ctx: JobContext, make_repo: MakeRepo
) -> None:
    session = ready_session(ctx, make_repo)
    submitted = ctx.service.run(
        lambda svc: svc.submit(session, "write a.txt: x", BOB, request_id="p1")
    )
    lock = SessionLock(ctx.redis, session.id, timeout=30)
    assert lock.acquire()
    stalled = RunState(ctx.redis, session.id, lock.token)
    taken = stalled.take("closed")
    assert taken.outcome is Taken.RUNNING and taken.prompt_id == submitted.prompt.id
    assert ctx.service.sessions.get(session.id).state is SessionState.RUNNING

    ctx.redis.delete(keys.run_lock(session.id))  # its heartbeat stopped (a stalled process)
    # A Redis up for less than a heartbeat timeout "just came back" and the watchdog waits:
    # this test may be the first on its worker's fresh Valkey.
    wait_until(
        lambda: watchdog.redis_uptime(ctx) >= ctx.settings.heartbeat_timeout,
        timeout=ctx.settings.heartbeat_timeout + 10,
        what="Valkey to be up longer than a heartbeat timeout",
    )
    assert watchdog.recover_stale_runs(ctx) == [submitted.prompt.id]
    assert not lock.renew() and not stalled.held()

    prompt = ctx.service.prompts.get(submitted.prompt.id)
    prompt.state, prompt.summary = PromptState.DONE, "done late"
    late = ProgressEvent(EventKind.RESULT, "done late", prompt.id)
    assert stalled.finish(prompt, late, '{"stat": null}') is False
    assert ctx.service.prompts.get(prompt.id).state is PromptState.FAILED
    assert ("result", "done late") not in events(ctx, session)
    assert ctx.redis.get(keys.diff(session.id)) is None
    assert [k for k, _ in events(ctx, session)].count("error") == 1
    assert stalled.take("closed").outcome is Taken.FENCED


def test_a_lock_that_expired_during_an_outage_is_taken_back_by_its_holder(
    ctx: JobContext, make_repo: MakeRepo
) -> None:
    session = ready_session(ctx, make_repo)
    lock = SessionLock(ctx.redis, session.id, timeout=30)
    assert lock.acquire()
    ctx.redis.delete(keys.run_lock(session.id))  # expired while Redis was away
    assert lock.renew() and lock.held()
    assert ctx.redis.get(keys.run_lock(session.id)) == lock.token.encode()
    other = SessionLock(ctx.redis, session.id, timeout=30)
    assert not other.acquire()


def test_outcome_event_and_session_state_change_in_one_step(
    ctx: JobContext, make_repo: MakeRepo
) -> None:
    session = ready_session(ctx, make_repo)
    ctx.service.run(lambda svc: svc.submit(session, "write a.txt: x", BOB, request_id="p1"))
    lock = SessionLock(ctx.redis, session.id, timeout=30)
    assert lock.acquire()
    state = RunState(ctx.redis, session.id, lock.token)
    prompt = ctx.service.prompts.get(str(state.take("closed").prompt_id))
    assert prompt.state is PromptState.RUNNING and prompt.started_at is not None
    prompt.state, prompt.summary = PromptState.DONE, "all good"
    assert state.finish(prompt, ProgressEvent(EventKind.RESULT, "all good", prompt.id), "{}")
    assert ctx.service.prompts.get(prompt.id).state is PromptState.DONE
    assert ctx.service.sessions.get(session.id).state is SessionState.READY
    assert ctx.service.prompts.running(session.id) is None
    assert events(ctx, session)[-2:] == [("result", "all good"), ("state", "ready")]
    assert not ctx.redis.sismember(keys.active_runs(), session.id)


def test_reconciler_repairs_a_session_running_with_nothing_running_and_says_so(
    ctx: JobContext, make_repo: MakeRepo
) -> None:
    session = ready_session(ctx, make_repo)
    ctx.service.sessions.transition(session.id, SessionState.RUNNING)  # a half-done step

    assert watchdog.reconcile(ctx) == [session.id]
    assert ctx.service.sessions.get(session.id).state is SessionState.READY
    assert events(ctx, session)[-2:] == [
        ("info", watchdog.REPAIRED_RUNNING),
        ("state", "ready"),
    ]
    assert watchdog.reconcile(ctx) == []  # nothing left to repair


def drain_jobs(ctx: JobContext, session: Session) -> list[str]:
    queues = Queue.all(connection=ctx.redis, serializer=JSONSerializer)  # the host's own too
    return [
        job.id
        for queue in queues
        for job in queue.get_jobs()
        if job.func_name.endswith("drain_session") and job.kwargs.get("session_id") == session.id
    ]


def test_the_reconciler_leaves_a_queue_whose_drain_job_waits_and_kicks_one_whose_job_is_gone(
    ctx: JobContext, make_repo: MakeRepo
) -> None:
    """Under a long queue a session's drain job waits behind others: that is being in line,
    not orphaned (kicking it every pause queued 1,675 extra jobs in the scale bench)."""
    session = ready_session(ctx, make_repo)
    ctx.service.run(lambda svc: svc.submit(session, "write a.txt: x", BOB, request_id="p1"))
    waiting = drain_jobs(ctx, session)
    assert len(waiting) == 1

    for _ in range(3):
        assert watchdog.reconcile(ctx) == []
    assert drain_jobs(ctx, session) == waiting  # no second job

    Job.fetch(waiting[0], connection=ctx.redis, serializer=JSONSerializer).delete()  # lost
    assert watchdog.reconcile(ctx) == [session.id]
    assert len(drain_jobs(ctx, session)) == 1
    run_jobs(ctx)
    assert [p.state for p in ctx.service.prompts.history(session.id)] == [PromptState.DONE]


def test_a_prompt_taken_but_never_recorded_running_goes_back_to_the_head(
    ctx: JobContext, make_repo: MakeRepo
) -> None:
    session = ready_session(ctx, make_repo)
    first = ctx.service.run(
        lambda svc: svc.submit(session, "write a.txt: first", BOB, request_id="p1")
    ).prompt
    ctx.service.run(lambda svc: svc.submit(session, "append a.txt: second", BOB, request_id="p2"))
    # The old, two-write take stopped half-way: moved to running, never marked running.
    ctx.redis.lmove(keys.queue(session.id), keys.running(session.id), "LEFT", "RIGHT")
    ctx.redis.sadd(keys.active_runs(), session.id)

    assert watchdog.recover_stale_runs(ctx) == []  # not a lost run: it never started
    assert ctx.service.prompts.waiting(session.id)[0].id == first.id
    run_jobs(ctx)
    history = ctx.service.prompts.history(session.id)
    assert [p.state for p in history] == [PromptState.DONE, PromptState.DONE]
    assert not [k for k, _ in events(ctx, session) if k == "error"]
    workdir = ctx.service.sessions.get(session.id).workdir
    assert Path(f"{workdir}/a.txt").read_text() == "first\nsecond\n"


def test_supervisor_exits_non_zero_when_a_child_keeps_dying() -> None:
    doomed = Child("doomed", [sys.executable, "-c", "raise SystemExit(3)"], dict(os.environ))
    started = time.monotonic()
    code = Supervisor([doomed], None, grace=1, tick=0.01, backoff=0.01).run()
    assert code == 1
    assert len(doomed.restarts) == 5 and time.monotonic() - started < 10


def test_cli_tells_an_unreachable_redis_from_repobox_not_running(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("REPOBOX_", "REDIS_"))},
        "REDIS_URL": "redis://127.0.0.1:9/0",  # nothing listens on the discard port
        "REPOBOX_DATA_DIR": str(tmp_path),
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "session", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: Redis is unreachable (REDIS_URL).")
    assert "Traceback" not in done.stderr and "127.0.0.1:9" not in done.stderr


def test_a_follower_waits_for_redis_only_up_to_its_patience(settings: Settings) -> None:
    """`session watch` rides out an outage, but not one that never ends."""
    down = settings.with_changes(redis_url="redis://127.0.0.1:9/0")
    service = BlockingService(down, connect(str(down.redis_url)), SESSION_JOBS)
    started = time.monotonic()
    with pytest.raises(UserError, match=r"Redis is unreachable \(REDIS_URL\)"):
        wait_for_redis(service, patience=0.5)
    assert time.monotonic() - started < 30
