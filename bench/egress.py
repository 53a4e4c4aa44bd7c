"""What the sandbox's network allow-list costs, in the same run of this script: the same
work in bubblewrap once with the network shared (REPOBOX_EGRESS=open) and once through
the allow-list proxy, interleaved so load on the machine hits both alike. Prints the
ratios.

    .venv-test/bin/python bench/egress.py [--runs 15]

Two figures:
- per command: start a sandbox and fetch a page from a local server 5 times (curl);
- per whole agent run: the built-in agent against the fake model API (no model delay),
  reading a file, editing it, fetching from a "registry" (a local server) three times and
  running a test command, each command in its own sandbox, as a real run does. The
  allow-list's proxy starts and stops with each run, so its whole cost is in the figure.
"""

from __future__ import annotations

import argparse
import http.server
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.agents.anthropic import AnthropicAgent
from bot.agents.base import RunRequest
from bot.core.config import Settings
from bot.processes.control import RunControl
from bot.security.egress_proxy import EgressProxy
from bot.security.sandbox import sandbox_for
from bot.sessions.session import Person, Session, Thread
from tests.fakes.anthropic import FakeAnthropic, Reply

KEY = "sk-ant-bench"


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *_: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    with tempfile.TemporaryDirectory() as tmp:
        base = Settings().with_changes(sandbox="require", data_dir=Path(tmp) / "data")
        a, b = per_command(base, Path(tmp), url, runs)
        c, d = per_run(base, Path(tmp), url, runs)
    print(f"per command (sandbox start + 5 fetches), median of {runs}:")
    print(f"  open network:  {a * 1000:.1f} ms")
    print(f"  allow-list:    {b * 1000:.1f} ms")
    print(f"  ratio:         {b / a:.2f}x")
    print(f"per whole agent run (5 commands, 3 fetches, 6 model turns), median of {runs}:")
    print(f"  open network:  {c * 1000:.1f} ms")
    print(f"  allow-list:    {d * 1000:.1f} ms")
    print(f"  ratio:         {d / c:.2f}x")


def per_command(base: Settings, tmp: Path, url: str, runs: int) -> tuple[float, float]:
    fetch = ["sh", "-c", f"for i in 1 2 3 4 5; do curl -sSf -o /dev/null {url} || exit 1; done"]
    workdir = tmp / "work"
    workdir.mkdir()
    open_box = sandbox_for(base.with_changes(agent_network=True))
    assert open_box is not None, "bubblewrap cannot run here"
    plain, listed = [], []
    with EgressProxy(tmp / "proxy.sock", ["127.0.0.1"]) as proxy:
        closed = open_box.with_egress(proxy)
        for _ in range(runs):
            plain.append(timed(open_box.wrap(fetch, workdir)))
            listed.append(timed(closed.wrap(fetch, workdir)))
    return statistics.median(plain), statistics.median(listed)


def per_run(base: Settings, tmp: Path, url: str, runs: int) -> tuple[float, float]:
    workdir = tmp / "repo"
    workdir.mkdir()
    (workdir / "app.py").write_text("X = 1\n")
    subprocess.run(["git", "init", "-q", str(workdir)], check=True)
    person = Person("U1", "Bench")
    session = Session("s1", "bench", "local", "bench", None, "b", Thread("cli", "t"), person)
    request = RunRequest("bump X and test", workdir, session, person)
    plain, listed = [], []
    with FakeAnthropic(api_key=KEY) as fake:
        settings = base.with_changes(
            anthropic_api_key=KEY, anthropic_base_url=fake.url, egress_hosts=("127.0.0.1",)
        )
        for _ in range(runs):
            plain.append(whole_run(fake, settings.with_changes(egress="open"), request, url))
            listed.append(whole_run(fake, settings, request, url))
    return statistics.median(plain), statistics.median(listed)


def whole_run(fake: FakeAnthropic, settings: Settings, request: RunRequest, url: str) -> float:
    fetch = f"curl -sSf -o /dev/null {url}"
    fake.script(
        Reply.tool_use("read_file", {"path": "app.py"}),
        Reply.tool_use("write_file", {"path": "app.py", "content": "X = 2\n"}),
        *(Reply.tool_use("run", {"command": fetch}) for _ in range(3)),
        Reply.tool_use("run", {"command": "python3 -c 'import app; assert app.X == 2'"}),
        Reply.text("Bumped X; the test passes."),
    )
    started = time.perf_counter()
    for event in AnthropicAgent(settings).run(request, RunControl(600)):
        failed = event.text.startswith("ran") and "exit 0" not in event.text
        if event.kind == "warning" or failed:
            raise SystemExit(f"the run went wrong: {event.text}")
    return time.perf_counter() - started


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, timeout=120)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
