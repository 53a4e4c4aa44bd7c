"""What the process guardian costs, and how fast a command's tree dies with its owner.

- start-up: a command (`true`) run through `StreamedProcess` (guardian included) against
  the same command through a bare `subprocess.run`, as a ratio;
- cancel: from `control.cancel()` until no process of the tree is left (a `setsid`
  child and a double-forked daemon included);
- owner SIGKILL: from SIGKILL of the owning process until no process of the tree is left
  (the guarantee in bot/processes/streamed.py is GRACE + 0.1 s).

    python bench/process_containment.py [rounds]
"""

from __future__ import annotations

import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.processes.control import RunControl
from bot.processes.streamed import StreamedProcess
from tests.process_marks import marked

OWNER = ROOT / "tests" / "agents" / "process_owner.py"
_tags = itertools.count(81_001)


def tree(tag: int) -> list[str]:
    script = f"setsid sleep {tag}1 & ( setsid sleep {tag}2 & ) ; echo started; sleep {tag}3"
    return ["bash", "-c", script]


def gone_after(tag: int) -> float:
    start = time.monotonic()
    while marked(tag):
        time.sleep(0.005)
    return time.monotonic() - start


def start_up(workdir: Path, rounds: int) -> tuple[float, float]:
    bare, guarded = [], []
    for _ in range(rounds):
        started = time.monotonic()
        subprocess.run(["true"], cwd=workdir, check=True)
        bare.append(time.monotonic() - started)
        started = time.monotonic()
        process = StreamedProcess(["true"], workdir, dict(os.environ))
        list(process.lines(RunControl(60)))
        guarded.append(time.monotonic() - started)
    return statistics.median(bare), statistics.median(guarded)


def cancel(workdir: Path) -> float:
    tag = next(_tags)
    control = RunControl(60)
    process = StreamedProcess(tree(tag), workdir, dict(os.environ))
    lines = process.lines(control)
    next(lines)  # "started"
    while len(marked(tag)) < 3:
        time.sleep(0.005)
    control.cancel()
    threading.Thread(target=lambda: list(lines), daemon=True).start()  # it notices and kills
    return gone_after(tag)


def owner_killed(workdir: Path) -> float:
    tag = next(_tags)
    owner = subprocess.Popen(
        [sys.executable, str(OWNER), str(workdir), json.dumps(tree(tag))],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert owner.stdout is not None
    owner.stdout.readline()
    owner.stdout.readline()
    while len(marked(tag)) < 3:
        time.sleep(0.005)
    owner.kill()
    owner.wait()
    return gone_after(tag)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        bare, guarded = start_up(workdir, rounds)
        print(
            f"start-up: bare {bare * 1000:.1f} ms, guarded {guarded * 1000:.1f} ms "
            f"(x{guarded / bare:.1f})"
        )
        cancels = [cancel(workdir) for _ in range(max(1, rounds // 3))]
        print(
            f"cancel → tree gone: median {statistics.median(cancels):.2f} s, "
            f"max {max(cancels):.2f} s"
        )
        kills = [owner_killed(workdir) for _ in range(max(1, rounds // 3))]
        print(
            f"owner SIGKILL → tree gone: median {statistics.median(kills):.2f} s, "
            f"max {max(kills):.2f} s"
        )


if __name__ == "__main__":
    main()
