"""What the sandbox's network allow-list costs: the same commands in bubblewrap, once with
the network shared (REPOBOX_EGRESS=open) and once through the allow-list proxy, in the
same run of this script. Prints the ratio.

    .venv-test/bin/python bench/egress.py [--runs 20]

Each "run" is what an agent's command does that touches the network: start a sandbox and
fetch a page from a local server 5 times (curl). The figure is the median per run.
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

from bot.core.config import Settings
from bot.security.egress_proxy import EgressProxy
from bot.security.sandbox import sandbox_for


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *_: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    fetch = ["sh", "-c", f"for i in 1 2 3 4 5; do curl -sSf -o /dev/null {url} || exit 1; done"]
    with tempfile.TemporaryDirectory() as tmp:
        base = Settings().with_changes(sandbox="require", data_dir=Path(tmp) / "data")
        workdir = Path(tmp) / "work"
        workdir.mkdir()
        sock = Path(tmp) / "proxy.sock"
        open_box = sandbox_for(base.with_changes(agent_network=True))
        assert open_box is not None, "bubblewrap cannot run here"
        plain, listed = [], []
        with EgressProxy(sock, ["127.0.0.1"]) as proxy:
            closed = open_box.with_egress(proxy)
            for _ in range(runs):  # interleaved, so load on the machine hits both alike
                plain.append(timed(open_box.wrap(fetch, workdir)))
                listed.append(timed(closed.wrap(fetch, workdir)))
    a, b = statistics.median(plain), statistics.median(listed)
    print(f"open network:  {a * 1000:.1f} ms per run (median of {runs})")
    print(f"allow-list:    {b * 1000:.1f} ms per run")
    print(f"ratio:         {b / a:.2f}x")


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, timeout=120)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
