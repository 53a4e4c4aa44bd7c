"""Starting and stopping `python app.py` the way a person does, in a terminal.

A terminal's Ctrl-C goes to the whole foreground process group, so each test sends SIGINT
to app.py's group (`os.killpg`), not to app.py alone. What is asserted is what the person
sees: the lines app.py prints, the replies in the session's thread, the files the prompt
wrote, and which processes are still there.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from jobs.worker.watchdog import LOST_RUN
from tests.conftest import ROOT, MakeRepo, wait_until
from tests.faults.harness import RepoboxApp, alive, children, leftovers, record_row

WAITING = "waiting up to 30 s for 1 run to finish; press Ctrl-C again to hand it back now"
SLACK = {  # a Slack app configured (never reached: nothing is sent to Slack here)
    "SLACK_BOT_TOKEN": "xoxb-lifecycle-test-token",
    "SLACK_SIGNING_SECRET": "lifecycle-test-signing-secret",
    "SLACK_API_URL": "http://127.0.0.1:9/api/",
}


@pytest.fixture
def app(make_repo: MakeRepo) -> Iterator[RepoboxApp]:
    box = RepoboxApp(make_repo(files={"README.md": "# Example\n"}), REPOBOX_SHUTDOWN_GRACE="30")
    yield box
    box.close()
    assert leftovers(box.mark) == []


def ctrl_c(box: RepoboxApp) -> None:
    """What a terminal does on Ctrl-C: SIGINT to every process in the foreground group."""
    assert box.process is not None
    os.killpg(box.process.pid, signal.SIGINT)


def printed(box: RepoboxApp) -> str:
    return (box.root / f"app-{box.runs}.log").read_text(errors="replace")


def states(box: RepoboxApp, session_id: str) -> list[str]:
    return [str(p["state"]) for p in box.prompts(session_id)]


def said(box: RepoboxApp, session_id: str, kind: str) -> list[str]:
    return [str(e["text"]) for e in box.events(session_id) if e["kind"] == kind]


def written(box: RepoboxApp, session_id: str, name: str) -> str | None:
    """The file's text in the session's workdir, or None while it is not there."""
    try:
        return work_file(box, session_id, name)
    except FileNotFoundError:
        return None


def work_file(box: RepoboxApp, session_id: str, name: str) -> str:
    return (box.root / "data" / "workdirs" / session_id / name).read_text()


def assert_clean(output: str) -> None:
    assert "Traceback" not in output, output
    assert "unhandled exception" not in output, output
    assert "ERROR" not in output, output


def test_ctrl_c_mid_run_says_what_it_waits_for_and_the_run_finishes_in_its_grace(
    app: RepoboxApp,
) -> None:
    app.start()
    session_id = app.new_session()
    gate = app.root / "go"
    app.prompt(session_id, "append log.txt: start", f"await {gate}", "append log.txt: end")
    wait_until(lambda: states(app, session_id) == ["running"], what="the run")
    valkey = app.valkey()

    ctrl_c(app)
    wait_until(lambda: WAITING in printed(app), timeout=10, what="the waiting line")
    time.sleep(2)  # the Ctrl-C killed nothing: the run and its database are still there
    assert alive(valkey) and states(app, session_id) == ["running"]
    gate.touch()
    assert app.process is not None
    assert app.process.wait(timeout=30) == 0
    assert leftovers(app.mark) == []
    assert_clean(printed(app))

    app.start()
    assert states(app, session_id) == ["done"]
    assert work_file(app, session_id, "log.txt") == "start\nend\n"
    assert said(app, session_id, "error") == [] and said(app, session_id, "info") == []


def test_a_second_ctrl_c_hands_the_run_back_and_it_runs_once_after_restart(
    app: RepoboxApp,
) -> None:
    app.start()
    session_id = app.new_session()
    gate = app.root / "go"  # the run waits on it, so it is still going at the second Ctrl-C
    app.prompt(session_id, "append log.txt: start", f"await {gate}", "append log.txt: end")
    app.prompt(session_id, "write second.txt: queued behind it")
    wait_until(lambda: states(app, session_id)[0] == "running", what="the run")

    ctrl_c(app)
    wait_until(lambda: WAITING in printed(app), timeout=10, what="the waiting line")
    stopped = time.monotonic()
    ctrl_c(app)
    assert app.process is not None
    assert app.process.wait(timeout=30) == 0
    took = time.monotonic() - stopped
    output = printed(app)
    assert "handing 1 run back now: they run again when Repobox restarts" in output
    assert_clean(output)
    assert took < 15, took  # at once, not after the 30 s grace
    assert leftovers(app.mark) == []

    gate.touch()
    app.start()
    wait_until(lambda: states(app, session_id) == ["done", "done"], timeout=60, what="both")
    assert work_file(app, session_id, "log.txt") == "start\nend\n"  # from the start, once
    assert any("no need to send it again" in text for text in said(app, session_id, "info"))
    assert said(app, session_id, "error") == []
    record_row(
        "Ctrl-C twice in the terminal mid-run, then a restart",
        sent=2,
        ran_once=2,
        lost=0,
        ran_twice=0,
        recover_s=took,
        saw=f"'{WAITING}'; the second Ctrl-C handed it back and app.py exited 0 in "
        f"{took:.1f} s; after the restart it ran once, to the end",
    )


def test_an_idle_stop_prints_a_line_or_two_and_no_traceback(make_repo: MakeRepo) -> None:
    box = RepoboxApp(make_repo(), **SLACK)
    try:
        box.start()
        time.sleep(1)  # the workers wait for jobs
        before = printed(box)
        ctrl_c(box)
        assert box.process is not None
        assert box.process.wait(timeout=30) == 0
        stop = printed(box)[len(before) :]
        assert len(stop.splitlines()) <= 5, stop
        assert_clean(stop)
        assert "will be unused" not in printed(box)  # Bolt was handed the token only once
        assert leftovers(box.mark) == []
    finally:
        box.close()


def test_a_second_instance_is_refused_naming_the_first_which_keeps_running(
    app: RepoboxApp, tmp_path_factory: pytest.TempPathFactory
) -> None:
    app.start()
    data = app.root / "data"
    pid_file, address = (data / "app.pid").read_text(), (data / "redis.url").read_text()
    assert app.process is not None
    first = app.process.pid

    second = run_app(app.env)
    assert second.returncode == 1
    assert second.stderr.strip() == (
        f"error: Repobox is already running: pid {first}, data dir {data}, port {app.port}."
    )
    elsewhere = run_app({**app.env, "REPOBOX_DATA_DIR": str(tmp_path_factory.mktemp("other"))})
    assert elsewhere.returncode == 1
    assert elsewhere.stderr.strip() == (
        f"error: Port {app.port} is already in use by Repobox (pid {first}). "
        "Stop it, or set REPOBOX_PORT to a free port."
    )
    assert app.health().status == 200  # the first is untouched
    assert (data / "app.pid").read_text() == pid_file
    assert (data / "redis.url").read_text() == address
    assert len(app.workers()) == 2

    os.kill(first, signal.SIGKILL)  # its pid file and lock file stay behind
    app.process.wait(timeout=10)
    wait_until(lambda: app.health().status == 0, timeout=30, what="its web process to stop")
    wait_until(lambda: leftovers(app.mark) == [] or only_valkey(app), what="its workers")
    assert json.loads((data / "app.lock").read_text())["pid"] == first
    app.start()  # a stale pid file and lock file do not block a restart
    assert app.health().status == 200


def only_valkey(box: RepoboxApp) -> bool:
    """Only the embedded Valkey is left: it outlives a SIGKILLed app.py, to be adopted."""
    return all("valkey" in line for line in leftovers(box.mark))


def run_app(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def test_a_worker_sigkilled_mid_run_is_reported_within_seconds_with_default_settings(
    make_repo: MakeRepo,
) -> None:
    box = RepoboxApp(  # the heartbeat and its timeout as shipped: 5 s and 30 s
        make_repo(), REPOBOX_HEARTBEAT_SECONDS="5", REPOBOX_HEARTBEAT_TIMEOUT="30"
    )
    try:
        box.start()
        session_id = box.new_session()
        gate = box.root / "go"
        box.prompt(session_id, "append log.txt: start", f"await {gate}", "append log.txt: end")
        wait_until(lambda: states(box, session_id) == ["running"], what="the run")
        wait_until(lambda: box.horse() is not None, what="its job process")
        # killed while it waits at the gate, after its first step (a job process can exist
        # a while before its agent writes, on a loaded machine)
        wait_until(lambda: written(box, session_id, "log.txt") == "start\n", what="the 1st step")
        horse = box.horse()
        owner = next(w for w in box.workers() if horse in children(w))
        killed = time.monotonic()
        os.kill(owner, signal.SIGKILL)

        wait_until(lambda: said(box, session_id, "error"), timeout=30, what="the reply")
        told = time.monotonic() - killed
        assert said(box, session_id, "error") == [LOST_RUN]
        assert told < 5, f"told {told:.1f} s after the kill"
        wait_until(lambda: box.session_state(session_id) == "ready", what="ready")

        gate.touch()  # were the prompt to run again, it would now run to the end
        box.prompt(session_id, "write after.txt: next")
        wait_until(lambda: states(box, session_id) == ["failed", "done"], timeout=30, what="next")
        assert work_file(box, session_id, "log.txt") == "start\n"  # it did not run twice
        assert said(box, session_id, "error") == [LOST_RUN]
        record_row(
            "SIGKILL of an app.py worker mid-run, default heartbeat (5 s, 30 s timeout)",
            sent=2,
            ran_once=1,
            lost=1,
            ran_twice=0,
            recover_s=told,
            saw=f"'stopped unexpectedly' in the thread {told:.1f} s after the kill "
            "(the supervisor handed the dead worker's lease on); next prompt ran",
        )
    finally:
        box.close()
