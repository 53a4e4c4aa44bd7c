"""`./dev demo` end to end, as a newcomer runs it on a fresh data dir: `app.py demo` starts a
real Repobox (its own embedded Valkey, workers and web process) with the demo agent, and
walks a session with the terminal's commands. Nothing is faked: the test reads what the
terminal shows and what the sample repository holds afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import ROOT, git, wait_until
from tests.ports import free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]  # two walks, each ~10 CLI starts


def demo_env(tmp_path: Path, port: int) -> dict[str, str]:
    """A newcomer's terminal: no account, no Redis, nothing of Repobox's set but where."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REPOBOX_", "SLACK_", "GITLAB_", "GITHUB_", "ANTHROPIC_", "REDIS_"))
    }
    env.update(
        REPOBOX_DATA_DIR=str(tmp_path / "data"),
        REPOBOX_PORT=str(port),
        REPOBOX_SHUTDOWN_GRACE="5",
        PYTHONPATH=str(ROOT),
    )
    return env


def demo(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "demo", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_demo_walks_the_flow_a_second_resets_and_stays_up_a_third_is_refused_ctrl_c_stops(
    tmp_path: Path,
) -> None:
    """One story, as a newcomer lives it: a walk that stops at once (`--no-wait`), then a
    second demo on the same data dir, which starts from a fresh sample and stays up, while a
    third is refused; Ctrl-C stops it. (Each walk costs about ten CLI starts, so the
    story walks twice, not three times.)"""
    env = demo_env(tmp_path, free_port())
    done = demo(tmp_path, env, "--no-wait")
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "Traceback" not in out + done.stderr

    sample = tmp_path / "data-demo" / "sample.git"
    assert "Made a sample repository at data-demo/sample.git" in out
    assert "$ ./dev session new data-demo/sample.git 'add a greeting'" in out
    session_id = next(
        line.split()[1] for line in out.splitlines() if line.startswith("    session ")
    )
    branch = f"repobox/{session_id}-add-a-greeting"
    assert f"/sessions/{session_id}?expires=" in out  # the live page's signed link
    assert "Demo agent (no AI): no model is called." in out
    assert "step      created greeting.md (+3)" in out
    assert "output    ?? greeting.md" in out
    assert "✅ tests passed" in out  # the sample's .repobox.yml check ran
    assert "+Written by the demo agent (no AI) for the prompt “add a greeting”." in out
    assert f"shipped   Pushed `{branch}` to `{sample}`." in out
    assert "$ ./dev session prompt " in out and " undo --watch" in out
    assert "    no changes\n" in out  # the diff after undo
    assert "/account/link/" in out  # the dashboard's one-time sign-in link

    subjects = git("log", "--format=%s", f"main..{branch}", cwd=sample).splitlines()
    assert subjects == [
        'Undo "Create greeting.md (demo agent, no AI)"',
        "Create greeting.md (demo agent, no AI)",
    ]
    assert git("show", f"{branch}:hello.py", cwd=sample) == git("show", "main:hello.py", cwd=sample)

    first = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "demo"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own group, as a terminal's foreground job
    )
    shown: list[str] = []
    reader = threading.Thread(target=lambda: shown.extend(first.stdout or []), daemon=True)
    reader.start()
    try:
        wait_until(
            lambda: first.poll() is not None or "Press Ctrl-C to stop it." in "".join(shown),
            timeout=240,
            what="the demo's walk",
        )
        assert first.poll() is None, "".join(shown)
        refs = git("for-each-ref", "--format=%(refname:short)", "refs/heads", cwd=sample).split()
        assert branch not in refs and len(refs) == 2 and "main" in refs  # reset: a new sample
        third = demo(tmp_path, env)
        assert third.returncode == 1
        assert third.stderr.strip() == (
            f"error: Repobox is already running on {tmp_path / 'data'}. Stop it (Ctrl-C in "
            "its terminal) and run `./dev demo` again, or give the demo a data dir of its own: "
            "`REPOBOX_DATA_DIR=.repobox-demo ./dev demo`."
        )
        os.killpg(first.pid, signal.SIGINT)  # Ctrl-C in its terminal
        assert first.wait(timeout=60) == 130
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
    reader.join(timeout=10)
    assert "Stopping Repobox …" in "".join(shown)
    assert "Traceback" not in "".join(shown)
