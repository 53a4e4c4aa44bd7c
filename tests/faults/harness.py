"""Repobox as its own processes, for fault tests: `python app.py` (with its embedded Valkey,
its workers and its web process) driven through the CLI and /healthz, with the scripted
agent doing timed work, and real processes killed.

Every process a test starts carries a marker (in its environment, and in the agent's
prompt), so `leftovers(mark)` finds anything left behind by pid and command line.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from redis import Redis

from bot.core.redisio import connect
from tests.conftest import ROOT, SCRIPTED_AGENT, wait_until
from tests.ports import free_port

MARK_ENV = "REPOBOX_FAULT_MARK"


def cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


def children(pid: int) -> list[int]:
    try:
        raw = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in raw.split()]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def leftovers(mark: str) -> list[str]:
    """Live processes that carry `mark` in their environment or command line."""
    found: list[str] = []
    needle = mark.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        pid = int(entry.name)
        try:
            hit = (
                needle in (entry / "environ").read_bytes()
                or needle in (entry / "cmdline").read_bytes()
            )
        except OSError:
            continue
        if hit and alive(pid):
            found.append(f"{pid}: {cmdline(pid)[:160]}")
    return found


@dataclass
class Health:
    status: int
    body: dict[str, object]


class RepoboxApp:
    """`python app.py` on a short data dir (so the Valkey listens on a unix socket)."""

    def __init__(self, origin: Path, **env: str) -> None:
        self.mark = f"fault-{uuid.uuid4().hex[:10]}"
        self.root = Path(tempfile.mkdtemp(prefix="rbx-", dir="/tmp"))
        self.origin = origin
        self.port = free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("REPOBOX_", "REDIS_"))},
            "REPOBOX_DATA_DIR": str(self.root / "data"),
            "REPOBOX_PORT": str(self.port),
            "REPOBOX_AGENT": "command",
            "REPOBOX_AGENT_COMMAND": f"{sys.executable} {SCRIPTED_AGENT}",
            "REPOBOX_WORKERS": "2",
            "REPOBOX_SANDBOX": "off",
            "REPOBOX_HEARTBEAT_SECONDS": "0.5",
            "REPOBOX_HEARTBEAT_TIMEOUT": "3",
            "REPOBOX_POOL_SIZE": "0",
            "REPOBOX_SHUTDOWN_GRACE": "2",
            "PYTHONPATH": str(ROOT),
            MARK_ENV: self.mark,
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.runs = 0

    # -- the app ---------------------------------------------------------------------------
    def start(self) -> RepoboxApp:
        self.runs += 1
        log = (self.root / f"app-{self.runs}.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py")],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        wait_until(lambda: self.health().status == 200, timeout=30, what="app.py's /healthz 200")
        wait_until(lambda: len(self.workers()) == int(self.env["REPOBOX_WORKERS"]), what="workers")
        return self

    def health(self) -> Health:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as r:
                return Health(r.status, json.loads(r.read()))
        except urllib.error.HTTPError as error:
            return Health(error.code, json.loads(error.read() or b"{}"))
        except OSError:
            return Health(0, {})

    def terminate(self, timeout: float = 40) -> int:
        """SIGTERM to app.py alone (as Docker does); its exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def close(self) -> None:
        """Stop whatever is still running and remove the data (end of a test)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
        # The embedded Valkey outlives a SIGKILLed app.py by design (the next start adopts
        # it), and it overwrites its environment with its title: find it by its data dir.
        for line in {*leftovers(self.mark), *leftovers(str(self.root))}:
            os.kill(int(line.split(":")[0]), signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.root.glob("*.log")))

    # -- its processes -----------------------------------------------------------------------
    def _children(self, word: str) -> list[int]:
        assert self.process is not None
        return [p for p in children(self.process.pid) if word in cmdline(p) and alive(p)]

    def workers(self) -> list[int]:
        return self._children("app.py worker")

    def valkey(self) -> int:
        found = self._children("valkey")
        assert found, "no embedded Valkey"
        return found[0]

    def horse(self) -> int | None:
        """The work horse running a job now (a worker's child), if any."""
        for worker in self.workers():
            for child in children(worker):
                if alive(child):
                    return child
        return None

    # -- talking to it -------------------------------------------------------------------
    @property
    def redis_url(self) -> str:
        return (self.root / "data" / "redis.url").read_text().strip()

    def redis(self) -> Redis:
        return connect(self.redis_url)

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(ROOT / "app.py"), "session", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
        )

    def cli_process(self, *args: str) -> subprocess.Popen[str]:
        """A CLI command left running (e.g. `watch`), to see what it prints through a fault."""
        return subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "session", *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )

    def new_session(self) -> str:
        created = self.cli("new", str(self.origin))
        assert created.returncode == 0, created.stderr
        return created.stdout.split()[1].rstrip(":")

    def prompt(self, session_id: str, *lines: str) -> None:
        """Queue a prompt; the marker goes in as its first line, so its agent carries it."""
        sent = self.cli("prompt", session_id, "\n".join([self.mark, *lines]))
        assert sent.returncode == 0, sent.stderr

    def events(self, session_id: str) -> list[dict[str, object]]:
        from bot.sessions.events import ProgressStream

        return [e.to_dict() for e in ProgressStream(self.redis(), session_id).read(count=5000)]

    def prompts(self, session_id: str) -> list[dict[str, object]]:
        from bot.sessions.prompts import PromptQueue

        return [
            {"seq": p.seq, "state": p.state.value, "error": p.error}
            for p in PromptQueue(self.redis()).history(session_id)
        ]

    def session_state(self, session_id: str) -> str:
        from bot.sessions.session_store import SessionStore

        return SessionStore(self.redis()).get(session_id).state.value


def record_row(
    fault: str,
    *,
    sent: int,
    ran_once: int,
    lost: int,
    ran_twice: int,
    recover_s: float,
    saw: str,
) -> None:
    """One line of the closing note's table (printed; appended to REPOBOX_FAULT_TABLE)."""
    row = {
        "fault": fault,
        "sent": sent,
        "ran_once": ran_once,
        "lost": lost,
        "ran_twice": ran_twice,
        "recover_s": round(recover_s, 1),
        "saw": saw,
    }
    print(f"\nFAULT {json.dumps(row, ensure_ascii=False)}")
    target = os.environ.get("REPOBOX_FAULT_TABLE")
    if target:
        with open(target, "a") as handle:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
