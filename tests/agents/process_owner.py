"""Stands in for RQ's work horse: owns one StreamedProcess, so a test can SIGKILL the owner.

Usage: process_owner.py WORKDIR ARGV_JSON. Prints each line the command prints, flushed,
and then blocks reading them until it is killed.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.processes.control import RunControl
from bot.processes.streamed import StreamedProcess


def main() -> int:
    workdir, argv = Path(sys.argv[1]), json.loads(sys.argv[2])
    process = StreamedProcess(argv, workdir, dict(os.environ))
    print(f"guardian {process.pid}", flush=True)
    for stream, line in process.lines(RunControl(3600)):
        print(f"{stream}: {line}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
