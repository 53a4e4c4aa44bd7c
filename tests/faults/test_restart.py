"""`python app.py` on the embedded default: sessions and workdirs survive a restart."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.conftest import ROOT, SCRIPTED_AGENT, MakeRepo, git, wait_until
from tests.ports import free_port


class App:
    """The whole of Repobox as one process tree, the way `./dev run` starts it."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.port = port
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py")],
            env=env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(self.healthy, timeout=30, what="app.py to answer /healthz")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.port}/healthz", timeout=1
            ) as answer:
                return bool(json.loads(answer.read())["ok"])
        except OSError:
            return False

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=60)
        self._log.close()


def test_restart_keeps_sessions_and_workdirs(make_repo: MakeRepo, tmp_path: Path) -> None:
    origin = make_repo()
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("REPOBOX_", "REDIS_"))},
        "REPOBOX_DATA_DIR": str(tmp_path / "data"),
        "REPOBOX_PORT": str(port),
        "REPOBOX_AGENT": "command",
        "REPOBOX_AGENT_COMMAND": f"{sys.executable} {SCRIPTED_AGENT}",
        "REPOBOX_WORKERS": "1",
        "REPOBOX_SANDBOX": "off",  # the test interpreter lives under $HOME, which the sandbox hides
        # A pool refill may still be cloning when the test stops the app; it gets this long.
        "REPOBOX_SHUTDOWN_GRACE": "5",
        "PYTHONPATH": str(ROOT),
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(ROOT / "app.py"), "session", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )

    app = App(env, port, tmp_path / "app.log")
    try:
        printed = re.search(r"Open the dashboard: (\S+)", (tmp_path / "app.log").read_text())
        assert printed and f"localhost:{port}/account/link/" in printed.group(1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as home:
            assert "What to configure next" in home.read().decode()  # not a 404
        created = cli("new", str(origin), "write kept.txt: before restart", "--watch")
        assert created.returncode == 0, created.stderr
    finally:
        app.stop()
    session_id = created.stdout.split()[1].rstrip(":")
    workdir = tmp_path / "data" / "workdirs" / session_id
    assert (workdir / "kept.txt").read_text() == "before restart\n"
    assert cli("list").returncode == 1  # nothing is running now, and the CLI says so

    app = App(env, port, tmp_path / "app.log")
    try:
        status = cli("status", session_id)
        assert status.returncode == 0, status.stderr
        assert f"session {session_id}  ready" in status.stdout
        assert "[done] write kept.txt: before restart" in status.stdout
        after = cli("prompt", session_id, "append kept.txt: after restart", "--watch")
        assert after.returncode == 0, after.stderr
        assert cli("ship", session_id).returncode == 0
    finally:
        app.stop()
    branch = git(
        "for-each-ref", "--format=%(refname:short)", "refs/heads/repobox/", cwd=origin
    ).strip()
    assert git("show", f"{branch}:kept.txt", cwd=origin) == "before restart\nafter restart\n"
