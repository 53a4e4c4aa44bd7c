"""The fault table: each fault injected into a running Repobox, and what a person saw.

Runs the fault suite (tests/faults/test_run_faults.py, real processes: `python app.py`
with its embedded Valkey, workers, the scripted agent) and prints one row per fault:
prompts sent / ran once / lost (failed once, with a message naming the cause) / ran
twice, seconds until everything worked again, and what the person saw. Settings in the
suite: heartbeat 0.5 s, heartbeat timeout 2-3 s, shutdown grace 2 s.

Usage: .venv-test/bin/python bench/faults.py [--slow] [pytest -k expression]
  --slow   also the slow variants (a restart a minute after the stop)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    env = dict(os.environ)
    if "--slow" in argv:
        argv = [a for a in argv if a != "--slow"]
        env["REPOBOX_SLOW_FAULTS"] = "1"
    with tempfile.TemporaryDirectory() as scratch:
        table = Path(scratch) / "faults.jsonl"
        env["REPOBOX_FAULT_TABLE"] = str(table)
        selection = ["-k", argv[0]] if argv else []
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-n",
                "0",  # one at a time: the recovery times are not shared with another test
                "-p",
                "no:cacheprovider",
                "tests/faults/test_run_faults.py",
                *selection,
            ],
            cwd=ROOT,
            env=env,
            check=False,
        )
        rows = (
            [json.loads(line) for line in table.read_text().splitlines()] if table.exists() else []
        )
    print()
    print("| fault | sent | ran once | lost | ran twice | recovered in | what the person saw |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['fault']} | {r['sent']} | {r['ran_once']} | {r['lost']} | {r['ran_twice']} "
            f"| {r['recover_s']} s | {r['saw']} |"
        )
    return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
