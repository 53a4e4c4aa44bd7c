"""Find a test's own processes by a marker in their command line (`sleep 9000123…`)."""

from __future__ import annotations

import os
from pathlib import Path


def marked(tag: int) -> list[int]:
    """Live processes running `sleep` with an argument that starts with `tag`."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            argv = Path(f"/proc/{name}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if len(argv) > 1 and argv[0].endswith(b"sleep") and argv[1].startswith(str(tag).encode()):
            found.append(int(name))
    return found
